// Hit latency through @nself-tv/cache (Redis tier only) next to raw ioredis
// GET + JSON.parse of the same value, and the hit rate with the in-process
// first tier next to the raw GET rate, in one run on a private redis-server.
// Usage: node bench/cache.bench.mjs [--quick]
import { createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { startRedisServer } from '@nself-tv/test-redis';
import { z } from 'zod';
import { createCache, entries } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const N = quick ? 3000 : 20000;
const ROUNDS = quick ? 1 : 5;
const item = z.object({ id: z.string(), title: z.string(), year: z.number() });
const value = Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, title: `Title ${i}`, year: 2000 + i }));

const server = await startRedisServer();
const config = loadRedisConfig({ REDIS_URL: server.url });
const rawClient = createRequestConnection(config, { commandTimeoutMs: 1000 });
const cacheClient = createRequestConnection(config, { commandTimeoutMs: 1000 });
const localClient = createRequestConnection(config, { commandTimeoutMs: 1000 });
const redisOnly = createCache({ connection: cacheClient });
const withLocal = createCache({ connection: localClient, localTier: { ttlMs: 60_000 } });
const trending = redisOnly.entry(entries.trending(z.array(item)));
const trendingLocal = withLocal.entry(entries.trending(z.array(item)));
await trending.set([], value);
const loader = async () => value;

async function sequential(fn) {
  const lat = new Float64Array(N);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    await fn();
    lat[i] = performance.now() - s;
  }
  const total = performance.now() - t0;
  lat.sort();
  return { meanUs: (total / N) * 1000, p99Us: lat[Math.floor(N * 0.99)] * 1000, perSec: N / (total / 1000) };
}

const raw = async () => JSON.parse(await rawClient.get('cache:trending'));
const ours = () => trending.getOrSet([], loader);
const oursLocal = () => trendingLocal.getOrSet([], loader);
for (const fn of [raw, ours, oursLocal]) await sequential(fn); // warm-up

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r = { raw: [], ours: [], local: [], ratio: [], localRatio: [] };
for (let round = 0; round < ROUNDS; round++) {
  const a = round % 2 ? await sequential(ours) : await sequential(raw);
  const b = round % 2 ? await sequential(raw) : await sequential(ours);
  const [rawRun, ourRun] = round % 2 ? [b, a] : [a, b];
  const localRun = await sequential(oursLocal);
  r.raw.push(rawRun);
  r.ours.push(ourRun);
  r.local.push(localRun);
  r.ratio.push(ourRun.meanUs / rawRun.meanUs);
  r.localRatio.push(localRun.perSec / rawRun.perSec);
}
const pick = (runs, f) => median(runs.map(f));
const rows = [
  {
    what: 'hit latency, Redis tier only (mean µs; p99 in brackets)',
    ours: `${pick(r.ours, (x) => x.meanUs).toFixed(1)} (${pick(r.ours, (x) => x.p99Us).toFixed(0)})`,
    raw: `${pick(r.raw, (x) => x.meanUs).toFixed(1)} (${pick(r.raw, (x) => x.p99Us).toFixed(0)})`,
    ratio: median(r.ratio),
    goal: '≤ 1.10× raw',
    met: median(r.ratio) <= 1.1,
  },
  {
    what: 'hit rate with the first tier (gets/s)',
    ours: pick(r.local, (x) => x.perSec).toFixed(0),
    raw: pick(r.raw, (x) => x.perSec).toFixed(0),
    ratio: median(r.localRatio),
    goal: '≥ 20× raw GET rate',
    met: median(r.localRatio) >= 20,
  },
];
console.log(
  `\n@nself-tv/cache bench: ${N} sequential hits per side, 20-item value, median of ${ROUNDS} paired round(s)\n`,
);
console.log('| measured | ours | raw ioredis GET + JSON.parse | ratio | goal |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const row of rows) {
  console.log(
    `| ${row.what} | ${row.ours} | ${row.raw} | ${row.ratio.toFixed(2)} | ${row.goal} ${row.met ? 'met' : 'NOT met'} |`,
  );
}
for (const row of rows) {
  console.log(
    `BENCH ${JSON.stringify({ package: '@nself-tv/cache', what: row.what, ours: row.ours, raw: row.raw, ratio: row.ratio, goal: row.goal })}`,
  );
}
await redisOnly.close();
await withLocal.close();
for (const c of [rawClient, cacheClient, localClient]) c.disconnect();
await server.close();
