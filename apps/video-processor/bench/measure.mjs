// What both video benches measure of a stored rendition: its bytes, and its quality against the source.
import { spawnSync } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes of the TS segments under `dir`, in every folder below it. */
export async function segmentBytes(dir) {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

/** SSIM (All) and PSNR (average) of a rendition, read through its playlist, against the source scaled to `w`×`h`. */
export function quality(playlist, source, w, h) {
  const graph = [
    '[0:v]setpts=PTS-STARTPTS,split[a1][a2]',
    `[1:v]setpts=PTS-STARTPTS,scale=${w}:${h}:flags=bicubic,setsar=1,format=yuv420p,split[b1][b2]`,
    '[a1][b1]ssim',
    '[a2][b2]psnr',
  ].join(';');
  const out = spawnSync('ffmpeg', [
    '-hide_banner',
    '-nostats',
    '-i',
    playlist,
    '-i',
    source,
    '-lavfi',
    graph,
    '-f',
    'null',
    '-',
  ]);
  const text = out.stderr.toString();
  const ssim = Number(/SSIM .*All:([\d.]+)/.exec(text)?.[1]);
  const psnr = Number(/PSNR .*average:([\d.]+|inf)/.exec(text)?.[1]);
  if (!(ssim > 0 && psnr > 0)) throw new Error(`no SSIM/PSNR for ${playlist}: ${text.slice(-500)}`);
  return { ssim, psnr };
}
