// Images per second through the real workers (Redis, BullMQ, validation, storage)
// next to calling sharp directly with the same settings at the same concurrency,
// in one run on generated images.
// Usage: node bench/image.bench.mjs [--quick]   (after pnpm build)
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProducer, createQueueWorker, QUEUE_CATALOG } from '@nself-tv/queues';
import { createRequestConnection, createWorkerConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { createFileStorage } from '@nself-tv/storage';
import { startRedisServer } from '@nself-tv/test-redis';
import sharp from 'sharp';
import { DEFAULT_IMAGE_LIMITS, optimize, poster } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const IMAGES = quick ? 16 : 48;
const ROUNDS = quick ? 1 : 3;
sharp.cache(false);

const root = await mkdtemp(join(tmpdir(), 'tg-bench-'));
const bucket = 'media';
await mkdir(join(root, bucket, 'in'), { recursive: true });
// A poster-sized photo stand-in: noise does not compress away, like a real photo.
const source = await sharp({
  create: {
    width: 2000,
    height: 3000,
    channels: 3,
    background: '#406080',
    noise: { type: 'gaussian', mean: 0, sigma: 20 },
  },
})
  .jpeg({ quality: 90 })
  .toBuffer();
for (let i = 0; i < IMAGES; i++) await writeFile(join(root, bucket, 'in', `p${i}.jpg`), source);

const server = await startRedisServer();
const config = loadRedisConfig({ REDIS_URL: server.url });
const request = createRequestConnection(config);
const workerConn = createWorkerConnection(config);
const producer = createProducer({ connection: request });
const storage = createFileStorage({ root });

const kinds = {
  'image:poster': {
    label: 'posters: 100/400/1200 w WebP q85',
    payload: (i, round) => ({
      mediaId: `p${i}`,
      familyId: 'bench',
      source: { bucket, key: `in/p${i}.jpg` },
      output: { bucket, prefix: `out/r${round}/p${i}` },
    }),
    processor: (payload, job) => poster(payload, job, storage, DEFAULT_IMAGE_LIMITS),
    direct: async (i, round) => {
      const bytes = await readFile(join(root, bucket, 'in', `p${i}.jpg`));
      const dir = join(root, bucket, 'direct', `r${round}`, `p${i}`);
      await mkdir(dir, { recursive: true });
      for (const width of [100, 400, 1200]) {
        const out = await sharp(bytes, { autoOrient: true, failOn: 'error' })
          .resize({ width, withoutEnlargement: true })
          .webp({ quality: 85 })
          .toBuffer();
        await writeFile(join(dir, `poster-${width}w.webp`), out);
      }
    },
  },
  'image:optimize': {
    label: 'optimize: WebP q85',
    payload: (i, round) => ({
      source: { bucket, key: `in/p${i}.jpg` },
      output: { bucket, key: `out/r${round}/o${i}.webp` },
    }),
    processor: (payload, job) => optimize(payload, job, storage, DEFAULT_IMAGE_LIMITS),
    direct: async (i, round) => {
      const bytes = await readFile(join(root, bucket, 'in', `p${i}.jpg`));
      const out = await sharp(bytes, { autoOrient: true, failOn: 'error' }).webp({ quality: 85 }).toBuffer();
      await mkdir(join(root, bucket, 'direct', `r${round}`), { recursive: true });
      await writeFile(join(root, bucket, 'direct', `r${round}`, `o${i}.webp`), out.length < bytes.length ? out : bytes);
    },
  },
};

/** Runs `task(i)` for every image with at most `concurrency` at once. */
async function pool(concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < IMAGES) await task(next++);
    }),
  );
}

async function throughWorker(queue, kind, round) {
  let done = 0;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  const worker = createQueueWorker(queue, kind.processor, {
    connection: workerConn,
    onEvent: (e) => {
      if (e.type === 'failed') console.error(e);
      if (e.type === 'completed' && ++done === IMAGES) finish();
    },
  });
  const started = performance.now();
  await producer.enqueueBulk(
    queue,
    Array.from({ length: IMAGES }, (_, i) => ({ payload: kind.payload(i, round) })),
  );
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await worker.close(1000);
  return IMAGES / seconds;
}

async function direct(queue, kind, round) {
  const started = performance.now();
  await pool(QUEUE_CATALOG[queue].concurrency, (i) => kind.direct(i, round));
  return IMAGES / ((performance.now() - started) / 1000);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [queue, kind] of Object.entries(kinds)) {
  const ours = [];
  const raw = [];
  for (let round = 0; round <= ROUNDS; round++) {
    // Paired rounds, alternating order; round 0 warms up and is not counted.
    const pair =
      round % 2
        ? [await direct(queue, kind, round), await throughWorker(queue, kind, round)].reverse()
        : [await throughWorker(queue, kind, round), await direct(queue, kind, round)];
    if (round === 0) continue;
    ours.push(pair[0]);
    raw.push(pair[1]);
  }
  rows.push({ what: kind.label, queue, ours: median(ours), raw: median(raw) });
}

console.log(
  `\nthumbnail-generator bench: ${IMAGES} 2000x3000 JPEGs per round, median of ${ROUNDS}, catalog concurrency\n`,
);
console.log('| measured | through the worker | sharp directly | ratio | goal |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(`| ${r.what} | ${r.ours.toFixed(2)} | ${r.raw.toFixed(2)} | ${(r.ours / r.raw).toFixed(3)} | >= 0.9 |`);
for (const r of rows)
  console.log(
    `BENCH ${JSON.stringify({ package: 'thumbnail-generator', what: `${r.what} (images/s)`, ours: r.ours, raw: r.raw, ratio: r.ours / r.raw, goal: '>= 0.9' })}`,
  );

await producer.close();
request.disconnect();
workerConn.disconnect();
await server.close();
await rm(root, { recursive: true, force: true });
