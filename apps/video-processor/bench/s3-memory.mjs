// Peak memory of the video-processor while it transcodes a large source held
// in S3-compatible storage (s3rver): the source streams down to the job's
// temporary folder and the outputs stream up, so the worker's RSS should not
// grow with the source. Not part of `pnpm bench` (it takes minutes).
// Usage: node bench/s3-memory.mjs [--seconds 330]   (after pnpm build; 330 s of 1080p MJPEG ≈ 1 GB)
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, tools } from '@nself-tv/media-tools';
import { openStorage, storageSettings } from '@nself-tv/storage';
import { jobApi, startAppProcess, startRedisServer, startS3Server } from '@nself-tv/test-redis';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 330;
const TOKEN = 'memory-bench-token-0123456789';
const work = await mkdtemp(join(tmpdir(), 'vp-s3-memory-'));
const jobTmp = await mkdtemp(join(tmpdir(), 'vp-s3-memory-jobs-'));
const redis = await startRedisServer();
const s3 = await startS3Server(['media']);
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(0);
const rssOf = (pid, field = 'VmRSS') => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
};
const du = async (dir) => {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (entry.isFile())
      total += (await stat(join(entry.parentPath ?? entry.path, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
};

try {
  const source = join(work, 'big.mkv');
  await run(tools.ffmpeg, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=25', '-t', String(seconds)],
    ...['-c:v', 'mjpeg', '-q:v', '2', '-f', 'matroska', source],
  ]);
  const bytes = (await stat(source)).size;
  const store = await openStorage(storageSettings.read(s3.env));
  await store.write({ bucket: 'media', key: 'uploads/big.mkv' }, createReadStream(source));
  await rm(source);
  console.log(`source: ${mb(bytes)} MB in S3 (${seconds} s of 1080p MJPEG)`);

  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  const app = startAppProcess(
    main,
    'video-processor listening',
    {
      ...s3.env,
      REDIS_URL: redis.url,
      PORT: '0',
      HOST: '127.0.0.1',
      API_TOKEN: TOKEN,
      TMPDIR: jobTmp,
      MEDIA_ROOT: work,
    },
    { keepOutput: false },
  );
  const address = await app.address;
  const pid = app.child.pid;
  const idle = rssOf(pid);
  const api = jobApi(address, TOKEN);
  const started = Date.now();
  const queued = await api.submit('transcode', {
    mediaId: 'big',
    familyId: 'f',
    source: { bucket: 'media', key: 'uploads/big.mkv' },
    output: { bucket: 'media', prefix: 'hls/big/' },
    renditions: ['360p'],
  });
  let peak = idle;
  let peakTemp = 0;
  let job;
  for (;;) {
    peak = Math.max(peak, rssOf(pid));
    peakTemp = Math.max(peakTemp, await du(jobTmp));
    job = await api.job(queued.body.jobId);
    if (job.state === 'completed' || job.state === 'failed') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const hwm = rssOf(pid, 'VmHWM');
  const outputs = await store.list('media', 'hls/big/');
  console.log(
    `job ${job.state} in ${((Date.now() - started) / 1000).toFixed(0)} s${job.failedReason ? `: ${job.failedReason}` : ''}`,
  );
  console.log(`worker RSS: ${mb(idle)} MB idle, ${mb(peak)} MB peak while working (VmHWM ${mb(hwm)} MB)`);
  console.log(
    `job temporary folder: ${mb(peakTemp)} MB at most (the source, on disk), ${mb(await du(jobTmp))} MB after the job`,
  );
  console.log(`outputs in S3: ${outputs.length} objects, ${mb(outputs.reduce((n, o) => n + o.bytes, 0))} MB`);
  app.child.kill('SIGTERM');
  await app.exited;
} finally {
  await s3.close();
  await redis.close();
  await rm(work, { recursive: true, force: true });
  await rm(jobTmp, { recursive: true, force: true });
}
