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

/**
 * SSIM (All) and PSNR (average) of a rendition, read through its playlist, against the source scaled
 * to `w`×`h`. Both sides are put on the source's frame grid first (`fps`): the TS's 90 kHz clock
 * cannot hold 23.976 fps exactly, and the comparison pairs each frame with the other side's latest
 * one at or before it, so a tick of rounding would compare a frame with its neighbour.
 */
export function quality(playlist, source, w, h) {
  const rate = spawnSync('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=r_frame_rate', '-of', 'csv=p=0', source],
  ])
    .stdout.toString()
    .trim();
  if (!/^\d+\/\d+$/.test(rate)) throw new Error(`no frame rate for ${source}: ${rate}`);
  const graph = [
    `[0:v]setpts=PTS-STARTPTS,fps=${rate},split[a1][a2]`,
    `[1:v]setpts=PTS-STARTPTS,fps=${rate},scale=${w}:${h}:flags=bicubic,setsar=1,format=yuv420p,split[b1][b2]`,
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
  const average = /PSNR .*average:([\d.]+|inf)/.exec(text)?.[1];
  // Identical pictures (a copied rung) have no noise to measure: PSNR is infinite.
  const psnr = average === 'inf' ? Number.POSITIVE_INFINITY : Number(average);
  if (!(ssim > 0 && psnr > 0)) throw new Error(`no SSIM/PSNR for ${playlist}: ${text.slice(-500)}`);
  return { ssim, psnr };
}
