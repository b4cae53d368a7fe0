#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createRequestConnection, describeRedisConfig, keyspaceFor, loadRedisConfig } from '@nself-tv/redis-keys';
import { collectStatus, renderStatus } from './status.js';

const HELP = `nself-tv-redis: a read-only view of the nself-tv Redis layer

Usage: nself-tv-redis [--json] [--watch [seconds]] [--url redis://...] [--namespace ns]

Connects to REDIS_URL (or REDIS_HOST/REDIS_PORT/REDIS_PASSWORD/REDIS_DB), or to --url.
Reads only: INFO, SCAN with COUNT (never KEYS), EXISTS and BullMQ's count script.

Figures
  queue rows    one per spec queue (BullMQ prefix bull:video / bull:image):
    waiting     jobs ready to run (LIST ...:wait)
    prio        prioritized jobs waiting (ZSET ...:prioritized)
    active      jobs running now (LIST ...:active)
    delayed     jobs waiting for a backoff or a delay (ZSET ...:delayed)
    failed      jobs failed for good, kept 7 days (ZSET ...:failed)
    completed   jobs done, kept 24 h or 1000 (ZSET ...:completed)
    paused      whether the queue is paused (its waiting jobs do not run)
  cache         whether cache:trending, cache:popular, cache:recent exist (0/1), and how
                many cache:recommendations:* and cache:search:* keys there are (SCAN)
  sessions      active: session:* keys; families / devices: family_streams:* and
                device_streams:* sets with at least one live session
  ingests       ingest:* states (kept 24 h)
  memory        used_memory and maxmemory from INFO; policy is maxmemory-policy. A
                warning is printed when it is not noeviction, because queue keys and
                their locks must never be evicted.

Options
  --json             print one JSON document and exit (for scripts)
  --watch [seconds]  redraw every N seconds (default 2) until Ctrl-C
  --url URL          Redis to read (overrides REDIS_URL)
  --namespace NS     global key namespace, when the services use one
  -h, --help         this text
`;

async function main(): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const env = args.values.url ? { ...process.env, REDIS_URL: args.values.url } : process.env;
  let config: ReturnType<typeof loadRedisConfig>;
  try {
    config = loadRedisConfig(env);
  } catch (error) {
    process.stderr.write(`nself-tv-redis: ${(error as Error).message}\n`);
    return 2;
  }
  const connection = createRequestConnection(config, { commandTimeoutMs: 5000, connectionName: 'nself-tv-redis' });
  connection.on('error', () => undefined);
  const keyspace = keyspaceFor(connection, { namespace: args.values.namespace });
  // The queue counts are BullMQ's, read by @nself-tv/queues: an optional peer, loaded by this command only.
  let queues: typeof import('@nself-tv/queues');
  try {
    queues = await import('@nself-tv/queues');
  } catch (error) {
    connection.disconnect();
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    process.stderr.write('nself-tv-redis: counting queues needs @nself-tv/queues installed beside @nself-tv/metrics\n');
    return 2;
  }
  const inspector = queues.createJobInspector(connection, keyspace);
  try {
    if (args.values.watch !== undefined) {
      const seconds = Number(args.values.watch || 2);
      if (!(seconds > 0)) throw new Error(`--watch expects a number of seconds, got '${args.values.watch}'`);
      for (;;) {
        const text = renderStatus(await collectStatus(connection, keyspace, inspector));
        process.stdout.write(
          `\x1b[2J\x1b[H${new Date().toISOString()}  (every ${seconds}s, Ctrl-C to stop)\n\n${text}\n`,
        );
        await new Promise((r) => setTimeout(r, seconds * 1000));
      }
    }
    const status = await collectStatus(connection, keyspace, inspector);
    process.stdout.write(args.values.json ? `${JSON.stringify(status, null, 2)}\n` : `${renderStatus(status)}\n`);
    return 0;
  } catch (error) {
    const reachable = connection.status === 'ready';
    const where = describeRedisConfig(config);
    process.stderr.write(
      reachable
        ? `nself-tv-redis: reading ${where} failed: ${(error as Error).message}\n`
        : `nself-tv-redis: cannot reach Redis at ${where}. Is it running, and are REDIS_URL or --url right?\n`,
    );
    return 1;
  } finally {
    await inspector.close().catch(() => undefined);
    connection.disconnect();
  }
}

function parse() {
  // --watch takes an optional value: a following flag or nothing means the default.
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--watch');
  if (i >= 0 && (argv[i + 1] === undefined || argv[i + 1]?.startsWith('-'))) argv.splice(i + 1, 0, '');
  return parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      watch: { type: 'string' },
      url: { type: 'string' },
      namespace: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

process.on('SIGINT', () => process.exit(0));
main().then((code) => process.exit(code));
