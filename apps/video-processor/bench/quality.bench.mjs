// What the ladder's rate control buys, in one run: every rung of four kinds of source made here
// (flat animation, a talking head, a film-like pan with grain, heavy grain), encoded at the rungs'
// fixed bitrates (`TRANSCODE_CRF=off`, the default) and at capped CRF (`--crf`, 22 unless given),
// side by side: bytes, SSIM and PSNR against the source scaled to the rung (ffmpeg's ssim and psnr
// filters; Debian's ffmpeg has no VMAF), and encode time. Each rung is encoded alone through
// `transcode` (one decode each), so its time is its own.
// Usage: node bench/quality.bench.mjs [--quick] [--crf N]   (after pnpm build)
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, tools } from '@nself-tv/media-tools';
import { createFileStorage } from '@nself-tv/storage';
import { planLadder, transcode } from '../dist/index.js';
import { quality, segmentBytes } from './measure.mjs';

const quick = process.argv.includes('--quick');
const crfAt = process.argv.indexOf('--crf');
const CRF = crfAt > 0 ? Number(process.argv[crfAt + 1]) : 22;
if (!(Number.isInteger(CRF) && CRF >= 1 && CRF <= 51)) throw new Error('--crf takes a whole number from 1 to 51');
const SECONDS = quick ? 6 : 20;
const [W, H] = quick ? [1280, 720] : [1920, 1080];
const RATE = '24000/1001';
const root = await mkdtemp(join(tmpdir(), 'vp-quality-'));
process.on('exit', () => spawnSync('rm', ['-rf', root]));
const uploads = join(root, 'media', 'uploads');
await mkdir(uploads, { recursive: true });
const storage = createFileStorage({ root });
const limits = { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS };

const ffmpeg = (args) => run(tools.ffmpeg, ['-hide_banner', '-v', 'error', '-y', ...args]);
// A detailed still (a Mandelbrot view) to pan over and to sit behind a speaker, larger than the frame.
const still = join(root, 'still.png');
await ffmpeg(['-f', 'lavfi', '-i', `mandelbrot=size=${W * 1.5}x${H * 1.5}:start_scale=0.02`, '-frames:v', '1', still]);
const looped = ['-loop', '1', '-framerate', RATE, '-t', String(SECONDS), '-i', still];
const pan = `crop=${W}:${H}:x='t*${(W * 0.5) / SECONDS}':y='t*${(H * 0.5) / SECONDS}'`;
/** The corpus: how each source is made (ffmpeg input and filter), and which goal it is held to. */
const corpus = [
  {
    name: 'flat animation',
    kind: 'easy',
    input: ['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${RATE}:duration=${SECONDS}`],
    filter: 'null',
  },
  {
    // A still, out-of-focus background, a small moving subject in the middle, light sensor noise.
    name: 'talking head',
    kind: 'easy',
    input: [...looped, ...['-f', 'lavfi', '-i', `testsrc2=size=${W / 4}x${H / 2}:rate=${RATE}:duration=${SECONDS}`]],
    filter: `[0]crop=${W}:${H},gblur=sigma=6[bg];[bg][1]overlay=x='${(W * 3) / 8}+${W / 64}*sin(t*1.3)':y='${H / 3}+${H / 80}*sin(t*0.7)':shortest=1,noise=alls=3:allf=t`,
  },
  {
    // A camera pan over a softly focused scene, with light film grain.
    name: 'film-like pan',
    kind: 'typical',
    input: looped,
    filter: `${pan},gblur=sigma=1.5,noise=alls=4:allf=t`,
  },
  {
    name: 'heavy grain',
    kind: 'grain',
    input: looped,
    filter: `${pan},noise=alls=28:allf=t+u`,
  },
];

const modes = [
  { name: 'fixed', crf: null },
  { name: 'capped CRF', crf: CRF },
];
const rungs = planLadder(W, H);
const results = [];
for (const [s, src] of corpus.entries()) {
  const file = join(uploads, `s${s}.mkv`);
  // Near-transparent H.264 (CRF 12): what the ladders are measured against is this file as decoded.
  await ffmpeg([
    ...src.input,
    ...['-filter_complex', src.filter, '-r', RATE, '-t', String(SECONDS)],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '12', '-pix_fmt', 'yuv420p', '-an', file],
  ]);
  for (const rung of rungs) {
    for (const mode of modes) {
      const prefix = `out/s${s}/${mode.crf === null ? 'fixed' : 'crf'}/${rung.name}/`;
      const t0 = performance.now();
      await transcode(
        {
          mediaId: `s${s}`,
          familyId: 'f',
          source: { bucket: 'media', key: `uploads/s${s}.mkv` },
          output: { bucket: 'media', prefix },
          renditions: [rung.name],
        },
        { signal: new AbortController().signal, progress: async () => undefined },
        storage,
        limits,
        { chunkSeconds: 0, crf: mode.crf, copy: false },
      );
      const seconds = (performance.now() - t0) / 1000;
      const dir = join(root, 'media', prefix, rung.name);
      const bytes = await segmentBytes(dir);
      const q = quality(join(dir, 'index.m3u8'), file, rung.width, rung.height);
      results.push({ source: src.name, kind: src.kind, rung: rung.name, mode: mode.name, bytes, seconds, ...q });
      console.error(
        `${src.name} ${rung.name} ${mode.name}: ${bytes} B, SSIM ${q.ssim.toFixed(5)}, PSNR ${q.psnr.toFixed(2)}, ${seconds.toFixed(1)} s`,
      );
    }
  }
}

const pick = (source, rung, mode) => results.find((r) => r.source === source && r.rung === rung && r.mode === mode);
console.log(`\nquality bench: ${SECONDS} s of ${W}x${H} per source, each rung encoded alone, CRF ${CRF}\n`);
console.log(
  '| source | rung | bytes fixed | bytes CRF | ratio | SSIM fixed | SSIM CRF | Δ SSIM | PSNR fixed | PSNR CRF | s fixed | s CRF |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const row = (what, ours, raw, ratio, goal) =>
  console.log(`BENCH ${JSON.stringify({ package: 'video-processor', what, ours, raw, ratio, goal })}`);
const summary = [];
for (const src of corpus) {
  let fixedBytes = 0;
  let crfBytes = 0;
  let worstDelta = Number.POSITIVE_INFINITY;
  let worseOnBoth = 0;
  for (const rung of rungs) {
    const f = pick(src.name, rung.name, 'fixed');
    const c = pick(src.name, rung.name, 'capped CRF');
    fixedBytes += f.bytes;
    crfBytes += c.bytes;
    const delta = c.ssim - f.ssim;
    worstDelta = Math.min(worstDelta, delta);
    if (c.bytes > f.bytes && c.ssim < f.ssim) worseOnBoth++;
    console.log(
      `| ${src.name} | ${rung.name} | ${f.bytes} | ${c.bytes} | ${(c.bytes / f.bytes).toFixed(3)} | ${f.ssim.toFixed(5)} | ${c.ssim.toFixed(5)} | ${delta >= 0 ? '+' : ''}${delta.toFixed(5)} | ${f.psnr.toFixed(2)} | ${c.psnr.toFixed(2)} | ${f.seconds.toFixed(1)} | ${c.seconds.toFixed(1)} |`,
    );
  }
  summary.push({ src, fixedBytes, crfBytes, worstDelta, worseOnBoth });
}
console.log('');
for (const { src, fixedBytes, crfBytes, worstDelta, worseOnBoth } of summary) {
  const ratio = crfBytes / fixedBytes;
  if (src.kind === 'grain') {
    row(
      `capped CRF vs fixed, ${src.name}: rungs worse on both bytes and SSIM`,
      worseOnBoth,
      rungs.length,
      worseOnBoth / rungs.length,
      '<= 0',
    );
  } else {
    row(`capped CRF vs fixed ladder bytes, ${src.name}`, crfBytes, fixedBytes, ratio, '<= 0.80');
  }
  // The goal is a difference, not a ratio: said here, and reported in the table as it is.
  const met = worstDelta >= -0.002;
  console.log(
    `${src.name}: ladder bytes ${ratio.toFixed(3)} of fixed; lowest SSIM difference of a rung ${worstDelta.toFixed(5)} (goal ≥ -0.002: ${met ? 'met' : 'NOT met'}); rungs worse on both bytes and SSIM: ${worseOnBoth}`,
  );
  row(`capped CRF vs fixed, ${src.name}: lowest SSIM difference of a rung`, worstDelta, 0, worstDelta, 'Δ ≥ -0.002');
}
