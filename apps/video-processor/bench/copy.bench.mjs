// What copying the video that already plays buys, in one run: a typical H.264 1080p file (High
// profile, 23.976 fps, a keyframe every 2 s and x264's own scene cuts, AAC-LC stereo; a soft
// film-like pan with light grain) ingested twice through `transcode`, in chunks as the worker runs
// it: with the top rung copied (`TRANSCODE_COPY=on`, the default) and with every rung encoded.
// Wall time, ladder bytes, and SSIM of the top rung against the source.
// Usage: node bench/copy.bench.mjs [--quick]   (after pnpm build)
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, tools } from '@nself-tv/media-tools';
import { createFileStorage } from '@nself-tv/storage';
import { transcode } from '../dist/index.js';
import { quality, segmentBytes } from './measure.mjs';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 12 : 40;
const [W, H] = [1920, 1080];
const RATE = '24000/1001';
const root = await mkdtemp(join(tmpdir(), 'vp-copy-'));
process.on('exit', () => spawnSync('rm', ['-rf', root]));
const uploads = join(root, 'media', 'uploads');
await mkdir(uploads, { recursive: true });
const storage = createFileStorage({ root });
const ffmpeg = (args) => run(tools.ffmpeg, ['-hide_banner', '-v', 'error', '-y', ...args]);

const still = join(root, 'still.png');
await ffmpeg(['-f', 'lavfi', '-i', `mandelbrot=size=${W * 1.5}x${H * 1.5}:start_scale=0.02`, '-frames:v', '1', still]);
const source = join(uploads, 'film.mp4');
await ffmpeg([
  ...['-loop', '1', '-framerate', RATE, '-t', String(SECONDS), '-i', still],
  ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${SECONDS}:sample_rate=48000`],
  ...[
    '-filter_complex',
    `[0:v]crop=${W}:${H}:x='t*${(W * 0.5) / SECONDS}':y='t*${(H * 0.5) / SECONDS}',gblur=sigma=1.2,noise=alls=4:allf=t,format=yuv420p[v]`,
  ],
  ...['-map', '[v]', '-map', '1:a', '-ac', '2', '-r', RATE],
  ...['-c:v', 'libx264', '-preset', 'fast', '-crf', '20', '-profile:v', 'high', '-g', '48'],
  ...['-c:a', 'aac', '-b:a', '160k', source],
]);

const runs = {};
for (const [name, copy] of [
  ['encoded', false],
  ['copied', true],
]) {
  const prefix = `out/${name}/`;
  const t0 = performance.now();
  const result = await transcode(
    {
      mediaId: name,
      familyId: 'f',
      source: { bucket: 'media', key: 'uploads/film.mp4' },
      output: { bucket: 'media', prefix },
    },
    { signal: new AbortController().signal, progress: async () => undefined },
    storage,
    { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS },
    { copy },
  );
  const seconds = (performance.now() - t0) / 1000;
  const top = result.renditions.at(-1);
  const dir = join(root, 'media', prefix);
  let bytes = 0;
  for (const r of result.renditions) bytes += await segmentBytes(join(dir, r.name));
  const q = quality(join(dir, top.name, 'index.m3u8'), source, top.width, top.height);
  runs[name] = { seconds, bytes, ...q, copied: result.source.videoCopy.copied };
  console.error(`${name}: ${seconds.toFixed(1)} s, ${bytes} B, top rung SSIM ${q.ssim.toFixed(5)}`);
}

const { copied, encoded } = runs;
if (!copied.copied || encoded.copied) throw new Error('the copy run did not copy, or the encoded run did');
console.log(`\ncopy bench: ${SECONDS} s of H.264 ${W}x${H} at 23.976 fps, 5 rungs, chunked as the worker runs it\n`);
console.log('| measured | top rung copied | every rung encoded | ratio |');
console.log('| --- | ---: | ---: | ---: |');
console.log(
  `| ingest wall time (s) | ${copied.seconds.toFixed(1)} | ${encoded.seconds.toFixed(1)} | ${(copied.seconds / encoded.seconds).toFixed(3)} |`,
);
console.log(`| ladder bytes | ${copied.bytes} | ${encoded.bytes} | ${(copied.bytes / encoded.bytes).toFixed(3)} |`);
console.log(`| SSIM of the top rung against the source | ${copied.ssim.toFixed(5)} | ${encoded.ssim.toFixed(5)} | |`);
console.log(`| PSNR of the top rung (dB) | ${copied.psnr.toFixed(2)} | ${encoded.psnr.toFixed(2)} | |`);
const row = (what, ours, raw, goal) =>
  console.log(`BENCH ${JSON.stringify({ package: 'video-processor', what, ours, raw, ratio: ours / raw, goal })}`);
row('ingest wall time, top rung copied vs every rung encoded (s)', copied.seconds, encoded.seconds, '<= 0.55');
