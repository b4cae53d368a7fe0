// Admissions/s and heartbeats/s through @nself-tv/sessions next to raw ioredis
// EVALSHA of a trivial script at the same concurrency, in one run on a private
// redis-server; also the memory one active session costs.
// Usage: node bench/sessions.bench.mjs [--quick]
import { createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { startRedisServer } from '@nself-tv/test-redis';
import { createSessionStore } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const N = quick ? 2000 : 20000;
const CONCURRENCY = 50;
const ROUNDS = quick ? 1 : 3;

const server = await startRedisServer();
const config = loadRedisConfig({ REDIS_URL: server.url });
const connection = createRequestConnection(config, { commandTimeoutMs: 10_000 });
const raw = createRequestConnection(config, { commandTimeoutMs: 10_000 });
const store = createSessionStore({ connection });
const trivial = await raw.script('LOAD', 'return 1');

/** Runs `task(i)` for i in [0, N) with CONCURRENCY in flight; returns ops/s. */
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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = { admit: [], heartbeat: [], raw: [] };
let sessions = [];
for (let round = 0; round < ROUNDS; round++) {
  await raw.flushall();
  sessions = new Array(N);
  // Five members per family, one device each: every admission succeeds and still prunes a family set.
  runs.admit.push(
    await rate(async (i) => {
      const r = await store.admit({
        userId: `u${i}`,
        familyId: `f${round}-${Math.floor(i / 5)}`,
        deviceId: `d${round}-${i}`,
        mediaId: 'm1',
      });
      sessions[i] = r.session;
    }),
  );
  runs.heartbeat.push(
    await rate(async (i) => {
      const s = sessions[i];
      await store.heartbeat(s.sessionId, { userId: s.userId, deviceId: s.deviceId });
    }),
  );
  runs.raw.push(await rate(() => raw.evalsha(trivial, 0)));
}

// Memory: the session key plus its share of the family (5 members) and device (1 member) sets.
const s = sessions[0];
const sessionBytes = await raw.memory('USAGE', `session:${s.sessionId}`);
const familyBytes = await raw.memory('USAGE', `family_streams:${s.familyId}`);
const deviceBytes = await raw.memory('USAGE', `device_streams:${s.deviceId}`);
const perSession = sessionBytes + familyBytes / 5 + deviceBytes;

const rawRate = median(runs.raw);
const rows = [
  { what: `admissions/s (concurrency ${CONCURRENCY})`, ours: median(runs.admit) },
  { what: `heartbeats/s (concurrency ${CONCURRENCY})`, ours: median(runs.heartbeat) },
];
console.log(`\n@nself-tv/sessions bench: ${N} operations per figure, median of ${ROUNDS} round(s)\n`);
console.log('| measured | ours | raw EVALSHA (return 1) | ratio | goal |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const r of rows) {
  const ratio = r.ours / rawRate;
  console.log(
    `| ${r.what} | ${r.ours.toFixed(0)} | ${rawRate.toFixed(0)} | ${ratio.toFixed(2)} | ≥ 0.6 ${ratio >= 0.6 ? 'met' : 'NOT met'} |`,
  );
}
console.log(
  `\nMemory per active session: ${perSession.toFixed(0)} bytes (session key ${sessionBytes}, family set ${familyBytes} / 5 members, device set ${deviceBytes}; MEMORY USAGE)`,
);
for (const r of rows) {
  console.log(
    `BENCH ${JSON.stringify({ package: '@nself-tv/sessions', what: r.what, ours: r.ours, raw: rawRate, ratio: r.ours / rawRate, goal: '>= 0.6' })}`,
  );
}
connection.disconnect();
raw.disconnect();
await server.close();
