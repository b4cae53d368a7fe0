// `pnpm bench cluster`: the queues and the sessions on a local 3-master Redis Cluster next to one
// redis-server, in one run on this machine: enqueues/s, no-op jobs processed/s and admissions/s,
// and the ratio cluster / single. All nodes share this machine's cores, so the figures show the
// cluster client's cost (slot routing, redirections), not the capacity a cluster of machines adds.
// Usage: node scripts/cluster.bench.mjs [--quick]
import { createProducer, createQueueWorker } from '@nself-tv/queues';
import { createRequestConnection, createWorkerConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { createSessionStore } from '@nself-tv/sessions';
import { startRedisCluster, startRedisServer } from '@nself-tv/test-redis';

const quick = process.argv.includes('--quick');
const N = quick ? 2000 : 10_000;
const CONCURRENCY = 50;
const ROUNDS = quick ? 1 : 3;
const result = {
  key: 'k',
  format: 'webp',
  originalBytes: 2,
  optimizedBytes: 1,
  savingsPercent: 50,
  keptOriginal: false,
};
const payload = (i) => ({
  source: { bucket: 'media', key: `in/${i}.jpg` },
  output: { bucket: 'media', key: `out/${i}.webp` },
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function rate(task) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) await task(next++);
    }),
  );
  return N / ((performance.now() - t0) / 1000);
}

/** One round of the three figures against the Redis `env` points at. */
async function measure(env, round) {
  const config = loadRedisConfig(env);
  const request = createRequestConnection(config, { commandTimeoutMs: 10_000 });
  const workerConnection = createWorkerConnection(config);
  for (const c of [request, workerConnection]) c.on('error', () => undefined);
  const producer = createProducer({ connection: request });
  const enqueue = await rate((i) => producer.enqueue('image:optimize', payload(`${round}-${i}`)));

  let done = 0;
  let finish;
  const all = new Promise((resolve) => {
    finish = resolve;
  });
  const t0 = performance.now();
  const worker = createQueueWorker(
    'image:optimize',
    async () => {
      done += 1;
      if (done === N) finish();
      return result;
    },
    { connection: workerConnection, overrides: { concurrency: CONCURRENCY } },
  );
  await all;
  const processing = N / ((performance.now() - t0) / 1000);
  await worker.close();

  const sessions = createSessionStore({ connection: request });
  const admit = await rate((i) =>
    sessions.admit({
      userId: `u${i}`,
      familyId: `f${round}-${Math.floor(i / 5)}`,
      deviceId: `d${round}-${i}`,
      mediaId: 'm',
    }),
  );
  await producer.close();
  request.disconnect();
  workerConnection.disconnect();
  return { enqueue, processing, admit };
}

const single = await startRedisServer();
const cluster = await startRedisCluster();
const runs = { single: [], cluster: [] };
try {
  // Interleaved, so drift on a busy machine hits both alike.
  for (let round = 0; round < ROUNDS; round++) {
    runs.single.push(await measure({ REDIS_URL: single.url }, `s${round}`));
    runs.cluster.push(await measure(cluster.env, `c${round}`));
  }
} finally {
  await single.close();
  await cluster.close();
}

const labels = { enqueue: 'enqueues/s', processing: 'no-op jobs processed/s', admit: 'admissions/s' };
console.log(`\ncluster bench: ${N} operations per figure, ${CONCURRENCY} in flight, median of ${ROUNDS} round(s)\n`);
console.log('| measured | 3-master cluster | one redis-server | ratio |');
console.log('| --- | ---: | ---: | ---: |');
for (const [field, label] of Object.entries(labels)) {
  const c = median(runs.cluster.map((r) => r[field]));
  const s = median(runs.single.map((r) => r[field]));
  console.log(`| ${label} | ${c.toFixed(0)} | ${s.toFixed(0)} | ${(c / s).toFixed(2)} |`);
  console.log(
    `BENCH ${JSON.stringify({ package: 'cluster', what: `${label}: 3-master cluster vs one server`, ours: c, raw: s, ratio: c / s, goal: 'report' })}`,
  );
}
