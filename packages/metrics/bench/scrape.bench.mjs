// Time of one /metrics scrape with 10 waiting jobs next to 100,000 (and the
// Redis commands each issues), in one run on a private redis-server.
// Usage: node bench/scrape.bench.mjs [--quick]
import { createJobInspector } from '@nself-tv/queues';
import { createKeyspace, createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { startRedisServer } from '@nself-tv/test-redis';
import { Queue } from 'bullmq';
import { createTvMetrics } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const LARGE = quick ? 20_000 : 100_000;
const SCRAPES = 50;
const server = await startRedisServer();
const connection = createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }), { commandTimeoutMs: 10_000 });
const processed = async () => Number(/total_commands_processed:(\d+)/.exec(await connection.info('stats'))?.[1]);

async function measure(namespace, jobs) {
  const keyspace = createKeyspace({ namespace });
  const loc = keyspace.queue('video:transcode');
  const queue = new Queue(loc.name, { connection, prefix: loc.prefix });
  for (let i = 0; i < jobs; i += 5000) {
    await queue.addBulk(
      Array.from({ length: Math.min(5000, jobs - i) }, () => ({ name: 'video:transcode', data: {} })),
    );
  }
  await queue.close();
  const inspector = createJobInspector(connection, keyspace);
  const metrics = createTvMetrics({ queues: inspector, keyspace, defaultMetrics: false });
  await metrics.metrics();
  const c0 = await processed();
  await metrics.metrics();
  const commands = (await processed()) - c0 - 1;
  for (let i = 0; i < 10; i++) await metrics.metrics(); // warm-up
  const times = [];
  for (let i = 0; i < SCRAPES; i++) {
    const t0 = performance.now();
    await metrics.metrics();
    times.push(performance.now() - t0);
  }
  await inspector.close();
  times.sort((a, b) => a - b);
  return { commands, medianMs: times[Math.floor(SCRAPES / 2)] };
}

const small = await measure('small', 10);
const large = await measure('large', LARGE);
console.log(`\n@nself-tv/metrics bench: median of ${SCRAPES} scrapes of nself_tv_queue_jobs\n`);
console.log('| measured | 10 waiting jobs | ' + LARGE.toLocaleString('en') + ' waiting jobs | ratio |');
console.log('| --- | ---: | ---: | ---: |');
console.log(
  `| scrape time (ms) | ${small.medianMs.toFixed(2)} | ${large.medianMs.toFixed(2)} | ${(large.medianMs / small.medianMs).toFixed(2)} |`,
);
console.log(
  `| Redis commands per scrape | ${small.commands} | ${large.commands} | ${(large.commands / small.commands).toFixed(2)} |`,
);
console.log(
  `BENCH ${JSON.stringify({ package: '@nself-tv/metrics', what: `scrape time, ${LARGE} vs 10 waiting jobs (ms)`, ours: large.medianMs, raw: small.medianMs, ratio: large.medianMs / small.medianMs, goal: 'constant commands' })}`,
);
connection.disconnect();
await server.close();
