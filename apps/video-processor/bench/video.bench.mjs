// The transcode job's wall time through the worker next to the same ffmpeg
// command run directly, and the single-decode ladder next to one encode per
// rung, in one run on a generated sample.
// Usage: node bench/video.bench.mjs [--quick]   (after pnpm build)
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, tools } from '@nself-tv/media-tools';
import { createProducer, createQueueWorker } from '@nself-tv/queues';
import { createRequestConnection, createWorkerConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { createFileStorage } from '@nself-tv/storage';
import { startRedisServer } from '@nself-tv/test-redis';
import { planLadder, transcode, transcodeArgs } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 10 : 30;
const [W, H] = quick ? [1280, 720] : [1920, 1080];
const root = await mkdtemp(join(tmpdir(), 'vp-bench-'));
const source = join(root, 'media', 'uploads', 'sample.mkv');
await mkdir(join(root, 'media', 'uploads'), { recursive: true });
await run(tools.ffmpeg, [
  '-hide_banner',
  '-y',
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${W}x${H}:rate=24:duration=${SECONDS}`,
  '-f',
  'lavfi',
  '-i',
  `sine=duration=${SECONDS}`,
  '-c:v',
  'libx264',
  '-preset',
  'ultrafast',
  '-c:a',
  'pcm_s16le',
  source,
]);
const plan = planLadder(W, H);
const time = async (fn) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

// 1. The same single-decode command, run directly.
const direct = await time(async () => {
  const out = join(root, 'direct');
  await mkdir(out, { recursive: true });
  await run(
    tools.ffmpeg,
    transcodeArgs(source, out, plan, 24, true).filter((a, i, all) => a !== '-progress' && all[i - 1] !== '-progress'),
  );
});

// 2. The job through a real worker and Redis (probe, encode, still frame, playlists, storage moves).
const server = await startRedisServer();
const config = loadRedisConfig({ REDIS_URL: server.url });
const request = createRequestConnection(config);
const workerConn = createWorkerConnection(config);
const storage = createFileStorage({ root });
let finished;
const done = new Promise((r) => {
  finished = r;
});
const limits = { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS };
const worker = createQueueWorker('video:transcode', (p, job) => transcode(p, job, storage, limits), {
  connection: workerConn,
  onEvent: (e) => e.type === 'completed' && finished(e.durationMs / 1000),
});
const producer = createProducer({ connection: request });
await producer.enqueue('video:transcode', {
  mediaId: 'b',
  familyId: 'f',
  source: { bucket: 'media', key: 'uploads/sample.mkv' },
  output: { bucket: 'media', prefix: 'hls/b/' },
});
const job = await done;

// 3. One encode per rung (what the first processor did): the source decoded once per rung.
const perRung = await time(async () => {
  for (const r of plan) {
    const out = join(root, 'per-rung', r.name);
    await mkdir(out, { recursive: true });
    await run(tools.ffmpeg, [
      '-hide_banner',
      '-nostdin',
      '-y',
      '-i',
      source,
      '-vf',
      `scale=${r.width}:${r.height}`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-b:v',
      `${r.videoKbps}k`,
      '-g',
      '48',
      '-keyint_min',
      '48',
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-ac',
      '2',
      '-f',
      'hls',
      '-hls_time',
      '4',
      '-hls_playlist_type',
      'vod',
      '-hls_segment_filename',
      join(out, 'seg_%03d.ts'),
      join(out, 'index.m3u8'),
    ]);
  }
});

console.log(
  `\nvideo-processor bench: ${SECONDS} s ${W}x${H} sample, ${plan.length} rungs (${plan.map((r) => r.name).join(', ')})\n`,
);
console.log('| measured | ours (s) | baseline (s) | ratio | goal |');
console.log('| --- | ---: | ---: | ---: | --- |');
console.log(
  `| transcode job through the worker vs the same ffmpeg command directly | ${job.toFixed(2)} | ${direct.toFixed(2)} | ${(job / direct).toFixed(3)} | ≤ 1.05 ${job / direct <= 1.05 ? 'met' : 'NOT met'} |`,
);
console.log(
  `| single-decode ladder vs one encode per rung (speed-up) | ${direct.toFixed(2)} | ${perRung.toFixed(2)} | ${(perRung / direct).toFixed(2)}× faster | > 1 |`,
);
console.log(
  `BENCH ${JSON.stringify({ package: 'video-processor', what: 'transcode job vs direct ffmpeg (s)', ours: job, raw: direct, ratio: job / direct, goal: '<= 1.05' })}`,
);
console.log(
  `BENCH ${JSON.stringify({ package: 'video-processor', what: 'single decode vs per-rung encodes (s)', ours: direct, raw: perRung, ratio: direct / perRung, goal: '< 1' })}`,
);
await worker.close(1000);
await producer.close();
request.disconnect();
workerConn.disconnect();
await server.close();
await rm(root, { recursive: true, force: true });
