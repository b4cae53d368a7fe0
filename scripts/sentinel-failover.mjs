// `pnpm test:failover`: what a Sentinel failover costs the queues and the sessions.
//
// A master, a replica and three sentinels (Debian's redis-server, `--sentinel`) on free ports.
// Under a steady stream of enqueues (image:optimize), job completions, admissions and heartbeats
// through the packages' own clients (REDIS_SENTINELS + REDIS_SENTINEL_NAME), the master is killed
// with SIGKILL. The run reports how long writes failed, and what was lost: acknowledged jobs that
// never ran and admitted sessions that disappeared. It fails when the clients did not carry on
// by themselves after the failover.
//
//   node scripts/sentinel-failover.mjs [--min-replicas] [--wait] [--seconds 20]
//
// --min-replicas  the master refuses writes without a replica within 10 s (min-replicas-to-write 1)
// --wait          REDIS_WAIT_REPLICAS=1: producers and the session store acknowledge a write only
//                 once a replica has it (WAIT 1 1000)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createProducer, createQueueWorker } from '@nself-tv/queues';
import { createRequestConnection, createWorkerConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { createSessionStore } from '@nself-tv/sessions';
import { startRedisServer } from '@nself-tv/test-redis';

const { values: flags } = parseArgs({
  options: {
    'min-replicas': { type: 'boolean', default: false },
    wait: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '20' },
  },
});
const SECONDS = Number(flags.seconds);
const KILL_AT_MS = 5000;
const NAME = 'nself-tv';
const say = (line) => console.log(`[failover] ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const servers = [];
const dir = mkdtempSync(join(tmpdir(), 'nself-failover-'));

async function until(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

async function topology() {
  const durability = flags['min-replicas'] ? ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '10'] : [];
  const data = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', ...durability];
  const master = await startRedisServer({ args: data });
  const replica = await startRedisServer({ args: [...data, '--replicaof', '127.0.0.1', String(master.port)] });
  servers.push(master, replica);
  const { Redis } = await import('ioredis');
  const probe = new Redis(replica.url);
  await until('replication link up', async () => (await probe.info('replication')).includes('master_link_status:up'));
  probe.disconnect();
  const sentinels = [];
  for (let i = 0; i < 3; i++) {
    const conf = join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      [
        `sentinel monitor ${NAME} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${NAME} 1000`,
        `sentinel failover-timeout ${NAME} 10000`,
        `sentinel parallel-syncs ${NAME} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(await startRedisServer({ configFile: conf, args: ['--sentinel'] }));
  }
  servers.push(...sentinels);
  return { master, replica, sentinels };
}

/** Runs `op` back to back on `lanes` lanes until `stop()`; records when each call succeeded or failed. */
function steady(lanes, op, stop) {
  const log = { ok: [], failed: [] };
  const lane = async () => {
    while (!stop()) {
      const at = Date.now();
      try {
        await op();
        log.ok.push(at);
      } catch (error) {
        log.failed.push(at);
        log.lastError = error.message;
        await sleep(20);
      }
    }
  };
  log.done = Promise.all(Array.from({ length: lanes }, lane));
  return log;
}

/** Longest stretch after `from` with no successful call: how long writes failed. */
function outage(log, from) {
  const oks = log.ok.filter((t) => t >= from - 2000).sort((a, b) => a - b);
  const lastBefore = oks.filter((t) => t < from).at(-1) ?? from;
  const firstAfter = oks.find((t) => t > from);
  return firstAfter === undefined ? Number.POSITIVE_INFINITY : firstAfter - lastBefore;
}

async function main() {
  const started = Date.now();
  const { master, sentinels } = await topology();
  const env = {
    REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    REDIS_SENTINEL_NAME: NAME,
    ...(flags.wait ? { REDIS_WAIT_REPLICAS: '1' } : {}),
  };
  const config = loadRedisConfig(env);
  say(`master :${master.port}, replica, sentinels ${env.REDIS_SENTINELS}`);

  const request = createRequestConnection(config, { commandTimeoutMs: 1000, connectionName: 'failover-producer' });
  const sessionsConnection = createRequestConnection(config, { commandTimeoutMs: 1000 });
  const workerConnection = createWorkerConnection(config, { connectionName: 'failover-worker' });
  for (const c of [request, sessionsConnection, workerConnection]) c.on('error', () => undefined);
  const { waitForReplicas } = config;
  const producer = createProducer({ connection: request, waitForReplicas });
  const completed = new Map();
  const worker = createQueueWorker(
    'image:optimize',
    async (payload) => {
      completed.set(payload.output.key, (completed.get(payload.output.key) ?? 0) + 1);
      return {
        key: payload.output.key,
        format: 'webp',
        originalBytes: 2,
        optimizedBytes: 1,
        savingsPercent: 50,
        keptOriginal: false,
      };
    },
    { connection: workerConnection },
  );
  const sessions = createSessionStore({
    connection: sessionsConnection,
    maxFamilyStreams: 100_000,
    maxDeviceStreams: 100_000,
    waitForReplicas,
  });

  let stopping = false;
  const stop = () => stopping;
  const acknowledgedJobs = new Set();
  const admitted = [];
  let n = 0;
  const loadStarted = Date.now();
  const enqueues = steady(
    4,
    async () => {
      const key = `posters/f${n++}.jpg`;
      await producer.enqueue('image:optimize', {
        source: { bucket: 'media', key },
        output: { bucket: 'media', key: `${key}.webp` },
      });
      acknowledgedJobs.add(`${key}.webp`);
    },
    stop,
  );
  let m = 0;
  const admissions = steady(
    2,
    async () => {
      const i = m++;
      const result = await sessions.admit({
        userId: `u${i}`,
        familyId: `fam${i % 50}`,
        deviceId: `d${i}`,
        mediaId: 'film',
      });
      if (!result.ok) throw new Error(result.reason);
      admitted.push(result.session);
    },
    stop,
  );
  let h = 0;
  const heartbeats = steady(
    2,
    async () => {
      const s = admitted[h++ % Math.max(1, admitted.length)];
      if (!s) return sleep(10);
      const beat = await sessions.heartbeat(s.sessionId, { userId: s.userId });
      if (!beat.ok) throw new Error(beat.reason);
    },
    stop,
  );

  await sleep(KILL_AT_MS);
  const killedAt = Date.now();
  process.kill(master.pid, 'SIGKILL');
  say(`master killed (SIGKILL) ${((killedAt - started) / 1000).toFixed(1)} s into the run`);
  // As a supervisor would, the dead node is started again once the sentinels have promoted the
  // replica: they make it a replica of the new master, so the new master has a replica again.
  const { Redis } = await import('ioredis');
  const sentinel = new Redis({ port: sentinels[0].port, lazyConnect: false });
  const promoted = await until('a replica promoted', async () => {
    const [, port] = await sentinel.call('SENTINEL', 'get-master-addr-by-name', NAME);
    return Number(port) !== master.port ? Number(port) : undefined;
  });
  const failedOverAt = Date.now();
  await master.stop(); // reaps the killed process
  await master.start();
  sentinel.disconnect();
  say(
    `replica :${promoted} promoted ${failedOverAt - killedAt} ms after the kill; the old master restarted as its replica`,
  );
  await sleep(Math.max(0, SECONDS * 1000 - (Date.now() - killedAt)));
  stopping = true;
  await Promise.all([enqueues.done, admissions.done, heartbeats.done]);

  // Whatever was acknowledged must run: give the worker time to drain.
  await until(
    'the worker drains the queue',
    async () => [...acknowledgedJobs].every((k) => completed.has(k)),
    30_000,
  ).catch(() => undefined);
  const lostJobs = [...acknowledgedJobs].filter((k) => !completed.has(k));
  const twice = [...completed.values()].filter((c) => c > 1).length;
  const gone = [];
  for (const s of admitted) if (!(await sessions.get(s.sessionId))) gone.push(s.sessionId);

  const figures = {
    mode: flags.wait
      ? 'WAIT 1 per write'
      : flags['min-replicas']
        ? 'min-replicas-to-write 1'
        : 'asynchronous replication',
    enqueueOutageMs: outage(enqueues, killedAt),
    admitOutageMs: outage(admissions, killedAt),
    heartbeatOutageMs: outage(heartbeats, killedAt),
    acknowledgedJobs: acknowledgedJobs.size,
    lostJobs: lostJobs.length,
    jobsRunTwice: twice,
    enqueueFailures: enqueues.failed.length,
    admittedSessions: admitted.length,
    lostSessions: gone.length,
    admitFailures: admissions.failed.length,
    heartbeatFailures: heartbeats.failed.length,
    enqueuesPerSecondBeforeKill: Math.round(
      enqueues.ok.filter((t) => t < killedAt).length / ((killedAt - loadStarted) / 1000),
    ),
    admissionsPerSecondBeforeKill: Math.round(
      admissions.ok.filter((t) => t < killedAt).length / ((killedAt - loadStarted) / 1000),
    ),
    promotedAfterMs: failedOverAt - killedAt,
  };
  console.log(JSON.stringify(figures, null, 2));
  await worker.close();
  await producer.close();
  for (const c of [request, sessionsConnection, workerConnection]) c.disconnect();
  const recovered = [figures.enqueueOutageMs, figures.admitOutageMs, figures.heartbeatOutageMs].every(Number.isFinite);
  if (!recovered) throw new Error('a client did not carry on after the failover');
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main()
  .catch((error) => {
    console.error(`[failover] FAILED: ${error.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  });
