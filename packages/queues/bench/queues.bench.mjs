// Enqueue and no-op processing throughput through @nself-tv/queues next to raw
// BullMQ, in one run, on a private redis-server. Prints a table and one
// `BENCH {json}` line per figure for the repository-wide `pnpm bench`.
// Usage: node bench/queues.bench.mjs [--quick]

import { randomUUID } from 'node:crypto';
import { createKeyspace, createRequestConnection, createWorkerConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { startRedisServer } from '@nself-tv/test-redis';
import { Queue, Worker } from 'bullmq';
import { createProducer, createQueueWorker, DEFAULT_JOB_OPTIONS, parsePayload, RESULT_SCHEMAS } from '../dist/index.js';

const quick = process.argv.includes('--quick');
// Many short paired rounds in alternating order: on a 2-core machine shared with redis-server,
// a few long ones leave the ratio to whatever else the machine did in one of them.
const JOBS = quick ? 2000 : 5000;
const BATCH = 500;
const CONCURRENCY = 50;
const ROUNDS = quick ? 3 : 9;

const payload = (i) => ({
  source: { bucket: 'media', key: `in/${i}.jpg` },
  output: { bucket: 'media', key: `out/${i}.webp` },
});
const result = {
  key: 'k',
  format: 'webp',
  originalBytes: 2,
  optimizedBytes: 1,
  savingsPercent: 50,
  keptOriginal: false,
};

const server = await startRedisServer();
const config = loadRedisConfig({ REDIS_URL: server.url });
const conns = [];
const conn = (kind) => {
  const c =
    kind === 'worker' ? createWorkerConnection(config) : createRequestConnection(config, { commandTimeoutMs: 10_000 });
  c.on('error', () => undefined);
  conns.push(c);
  return c;
};

async function timeEnqueue(kind, round) {
  const ns = `${kind}${round}`;
  const keyspace = createKeyspace({ namespace: ns });
  const loc = keyspace.queue('image:optimize');
  let add;
  let close;
  if (kind === 'raw') {
    const q = new Queue(loc.name, {
      connection: conn('request'),
      prefix: loc.prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS,
    });
    add = (items) => q.addBulk(items.map((data) => ({ name: 'image:optimize', data })));
    close = () => q.close();
  } else {
    const producer = createProducer({ connection: conn('request'), keyspace, timeoutMs: 10_000 });
    add = (items) =>
      producer.enqueueBulk(
        'image:optimize',
        items.map((p) => ({ payload: p })),
      );
    close = () => producer.close();
  }
  const items = Array.from({ length: JOBS }, (_, i) => payload(i));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i += BATCH) await add(items.slice(i, i + BATCH));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuPerJob(c0);
  await close();
  return { ns, rate: JOBS / seconds, cpu };
}

async function timeProcess(kind, ns) {
  const keyspace = createKeyspace({ namespace: ns });
  const loc = keyspace.queue('image:optimize');
  let done = 0;
  let finish;
  const all = new Promise((r) => {
    finish = r;
  });
  const tick = () => {
    done += 1;
    if (done === JOBS) finish();
  };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let close;
  if (kind === 'raw') {
    const w = new Worker(loc.name, async () => result, {
      connection: conn('worker'),
      prefix: loc.prefix,
      concurrency: CONCURRENCY,
    });
    w.on('completed', tick);
    close = () => w.close();
  } else {
    const w = createQueueWorker('image:optimize', async () => result, {
      connection: conn('worker'),
      keyspace,
      overrides: { concurrency: CONCURRENCY },
      onEvent: (e) => e.type === 'completed' && tick(),
    });
    close = () => w.close(5000);
  }
  await all;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuPerJob(c0);
  await close();
  return { rate: JOBS / seconds, cpu };
}

/** This process's CPU time since `c0`, in µs per job (redis-server's is not in it). */
function cpuPerJob(c0) {
  const { user, system } = process.cpuUsage(c0);
  return (user + system) / JOBS;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const side = () => ({ raw: [], ours: [], ratio: [], cpuRaw: [], cpuOurs: [] });
const runs = { enqueue: side(), process: side() };
for (let round = 0; round <= ROUNDS; round++) {
  // Each round measures both sides back to back, in alternating order, and the
  // ratio is taken per round: the machine's drift then cancels out.
  const order = round % 2 === 0 ? ['raw', 'ours'] : ['ours', 'raw'];
  const got = { enqueue: {}, process: {} };
  for (const kind of order) {
    const enqueued = await timeEnqueue(kind, round);
    got.enqueue[kind] = enqueued;
    got.process[kind] = await timeProcess(kind, enqueued.ns);
    // Each side starts on an empty Redis, not on the other side's finished jobs.
    await conns[0]?.flushall();
  }
  // The first round warms both sides up (JIT, connections, Lua script loads) and is not counted.
  if (round === 0) continue;
  for (const what of ['enqueue', 'process']) {
    runs[what].raw.push(got[what].raw.rate);
    runs[what].ours.push(got[what].ours.rate);
    runs[what].ratio.push(got[what].ours.rate / got[what].raw.rate);
    runs[what].cpuRaw.push(got[what].raw.cpu);
    runs[what].cpuOurs.push(got[what].ours.cpu);
  }
}

/** Where the rest goes: the per-job steps raw BullMQ does not have, each timed alone in this process (µs). */
function perJob(fn, n = 50_000) {
  for (let i = 0; i < 2000; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t0) * 1000) / n;
}
const steps = {
  'payload validation (zod)': perJob((i) => parsePayload('image:optimize', payload(i))),
  'job id (random UUID)': perJob(() => randomUUID()),
  'result validation (zod)': perJob(() => RESULT_SCHEMAS['image:optimize'].parse(result)),
};

const row = (what, key, goal) => ({
  what,
  ours: median(runs[key].ours),
  raw: median(runs[key].raw),
  ratio: median(runs[key].ratio),
  goal,
});
const rows = [
  row(`enqueue (addBulk, ${BATCH}/call), jobs/s`, 'enqueue', 0.95),
  row(`no-op processing (concurrency ${CONCURRENCY}), jobs/s`, 'process', 0.9),
];
console.log(
  `\n@nself-tv/queues bench: ${JOBS} jobs per side, median of ${ROUNDS} paired rounds, raw = BullMQ used directly\n`,
);
console.log('| measured | ours | raw BullMQ | ratio | goal |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.what} | ${r.ours.toFixed(0)} | ${r.raw.toFixed(0)} | ${r.ratio.toFixed(2)} | ≥ ${r.goal} ${r.ratio >= r.goal ? 'met' : 'NOT met'} |`,
  );
}
console.log(
  `\nPer-round ratios: enqueue ${runs.enqueue.ratio.map((r) => r.toFixed(2)).join(' ')}; processing ${runs.process.ratio.map((r) => r.toFixed(2)).join(' ')}`,
);
console.log('\nWhere the rest goes: CPU of this process per job (redis-server does the same commands for both)\n');
console.log('| | ours µs | raw µs | extra µs |');
console.log('| --- | ---: | ---: | ---: |');
for (const what of ['enqueue', 'process']) {
  const ours = median(runs[what].cpuOurs);
  const raw = median(runs[what].cpuRaw);
  console.log(`| ${what} | ${ours.toFixed(1)} | ${raw.toFixed(1)} | ${(ours - raw).toFixed(1)} |`);
}
for (const [step, us] of Object.entries(steps)) console.log(`| of which ${step} | ${us.toFixed(1)} | | |`);
for (const r of rows) {
  console.log(
    `BENCH ${JSON.stringify({ package: '@nself-tv/queues', what: r.what, ours: r.ours, raw: r.raw, ratio: r.ratio, goal: `>= ${r.goal}` })}`,
  );
}
await Promise.all(conns.map((c) => c.quit().catch(() => c.disconnect())));
await server.close();
