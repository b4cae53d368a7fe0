import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createJobInspector, type IngestState } from '@nself-tv/queues';
import { createKeyspace, createRequestConnection } from '@nself-tv/redis-keys';
import { makeSample } from '@nself-tv/sample-media';
import { createFileStorage, hlsLayout, type MediaStorage, openStorage, storageSettings } from '@nself-tv/storage';
import { type S3ServerHandle, startS3Server } from '@nself-tv/test-redis';
import { alive, type RunningApp, startApp, stopApps } from './app-processes.js';
import { FAMILY, gatewayDemo, playbackDemo } from './gateway-demo.js';
import { type DemoRedis, hasTool, INSTALL_HINT, resolveRedis } from './local-redis.js';
import { describeOutputs } from './outputs.js';
import { createProgressView } from './progress-view.js';

const HELP = `Usage: pnpm demo [video-file] [--keep] [--s3] [--seconds N]

Starts Redis (yours from REDIS_URL / REDIS_HOST, or a local redis-server with AOF
under .demo/redis), the three apps, ingests the video (or a generated sample with
sound and subtitles), then admits, refuses, heartbeats and ends stream sessions.

  video-file   a video to ingest; without it a sample is generated with ffmpeg
  --seconds N  length of the generated sample (default 30)
  --keep       leave Redis and the apps running and print how to reach them
  --s3         keep the media in a local S3-compatible server (s3rver, in the demo's
               process) instead of files under .demo/media; not with --keep
  --dir PATH   where data, media and logs go (default .demo in the project)
`;

// Where the ingest writes and the gateway serves: the shared layout (`media`, `library/{mediaId}/`).
const layout = hlsLayout();
const BUCKET = layout.bucket;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const say = (line = '') => process.stdout.write(`${line}\n`);
const heading = (title: string) => say(`\n== ${title}`);

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      keep: { type: 'boolean', default: false },
      s3: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '30' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
try {
  args = parse();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${HELP}`);
  process.exit(2);
}
if (args.values.help) {
  say(HELP);
  process.exit(0);
}
const seconds = Number(args.values.seconds);
if (!Number.isFinite(seconds) || seconds < 2 || seconds > 600) {
  process.stderr.write('--seconds: expected a number from 2 to 600\n');
  process.exit(2);
}
if (args.values.s3 && args.values.keep) {
  process.stderr.write('--s3 runs the object store inside the demo, so it cannot outlive it: drop --keep\n');
  process.exit(2);
}
const videoArg = args.positionals[0];
const dir = resolve(args.values.dir ?? process.env.DEMO_DIR ?? join(repoRoot, '.demo'));
const mediaRoot = join(dir, 'media');
const logDir = join(dir, 'logs');

let redis: DemoRedis | undefined;
let s3: S3ServerHandle | undefined;
const apps: RunningApp[] = [];
let cleaning: Promise<void> | undefined;

/** Stops what the demo started; says what is left (nothing, unless something refused to die). */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (apps.length) {
      say(`stopping ${apps.map((a) => a.name).join(', ')} (SIGTERM: running jobs go back to wait, ffmpeg is killed)`);
      await stopApps(apps);
    }
    if (redis?.pid) {
      say(`stopping the local redis-server (pid ${redis.pid}); its data stays in ${join(dir, 'redis')}`);
      await redis.stop();
    }
    if (s3) {
      say('stopping the local S3 server (s3rver); its objects go with it');
      await s3.close();
    }
    const left = [...apps.map((a) => a.pid), redis?.pid].filter((p): p is number => p !== undefined && alive(p));
    say(left.length ? `still running: ${left.join(', ')}` : 'nothing left running');
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    say(`\n${signal}: cleaning up`);
    void cleanup().then(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  if (!hasTool('ffmpeg') || !hasTool('ffprobe')) {
    throw new Error(`ffmpeg/ffprobe are not installed. Install them: ${INSTALL_HINT.ffmpeg}`);
  }
  if (videoArg !== undefined && !existsSync(videoArg)) {
    throw new Error(`${videoArg}: no such file`);
  }
  await mkdir(logDir, { recursive: true });
  await mkdir(join(mediaRoot, BUCKET), { recursive: true });

  heading('Redis');
  redis = await resolveRedis(process.env, join(dir, 'redis'));
  say(`using ${redis.description}`);

  let store: MediaStorage = createFileStorage({ root: mediaRoot });
  let storageEnv: Record<string, string> = {};
  if (args.values.s3) {
    heading('Object storage');
    s3 = await startS3Server([BUCKET]);
    storageEnv = s3.env;
    store = await openStorage(storageSettings.read(s3.env));
    say(`a local S3-compatible server (s3rver) at ${s3.endpoint}, bucket ${BUCKET}; the apps get STORAGE=s3`);
  }

  heading('Apps');
  const secrets = {
    API_TOKEN: randomBytes(24).toString('hex'),
    AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    PLAYBACK_JWT_SECRET: randomBytes(32).toString('hex'),
  };
  const common = {
    ...redis.env,
    ...storageEnv,
    PORT: '0',
    HOST: '127.0.0.1',
    MEDIA_ROOT: mediaRoot,
    API_TOKEN: secrets.API_TOKEN,
  };
  const started = await Promise.allSettled([
    startApp('video-processor', common, logDir),
    startApp('thumbnail-generator', common, logDir),
    // The development player is on in the demo only (DEV_PLAYER); never in production.
    startApp('stream-gateway', { ...common, ...secrets, DEV_PLAYER: 'true' }, logDir),
  ]);
  for (const s of started) if (s.status === 'fulfilled') apps.push(s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  for (const app of apps) say(`${app.name.padEnd(20)} ready at ${app.address} (pid ${app.pid}, log ${app.logFile})`);

  heading('Source');
  const where = (key: string) => (s3 ? `s3://${BUCKET}/${key} (${s3.endpoint})` : `${BUCKET}/${key}`);
  const mediaId = `demo-${randomBytes(3).toString('hex')}`;
  const uploads = join(mediaRoot, BUCKET, 'uploads');
  await mkdir(uploads, { recursive: true });
  let sourceKey: string;
  if (videoArg) {
    const name =
      basename(videoArg)
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .replace(/^[.-]+/, '') || 'video';
    sourceKey = `uploads/${mediaId}-${name}`;
    await store.write({ bucket: BUCKET, key: sourceKey }, createReadStream(videoArg));
    say(`copied ${videoArg} to ${where(sourceKey)}`);
  } else {
    say(`generating a ${seconds} s 1280x720 sample with a 440 Hz tone and an English subtitle track (ffmpeg lavfi)`);
    await makeSample(uploads, mediaId, 1280, 720, { seconds });
    sourceKey = `uploads/${mediaId}.mkv`;
    // On S3 the sample goes up like any upload; on files it is already in place.
    if (s3) await store.putFile({ bucket: BUCKET, key: sourceKey }, join(uploads, `${mediaId}.mkv`));
    say(`wrote ${where(sourceKey)}`);
  }

  const connection = createRequestConnection(redis.config, { connectionName: 'nself-tv-demo', commandTimeoutMs: 5000 });
  const inspector = createJobInspector(connection);
  try {
    heading('Ingest over HTTP');
    const prefix = layout.prefixFor(mediaId);
    const videoProcessor = apps.find((a) => a.name === 'video-processor') as RunningApp;
    const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      fetch(`${videoProcessor.address}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${secrets.API_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    // What the library service would have cached for its "recently added" row.
    const recentKey = createKeyspace().cacheRecent();
    await connection.set(recentKey, JSON.stringify([{ id: 'older-title' }]), 'EX', 300);
    // No output: the ingest writes where the layout says, which is where the gateway serves from.
    const request = { mediaId, familyId: FAMILY, source: { bucket: BUCKET, key: sourceKey } };
    const idempotency = { 'idempotency-key': `ingest-${mediaId}` };
    const posted = await api('POST', '/api/v1/ingests', request, idempotency);
    const first = (await posted.json()) as { ingestId: string; replayed: boolean };
    if (posted.status !== 202)
      throw new Error(`POST /api/v1/ingests answered ${posted.status}: ${JSON.stringify(first)}`);
    say(`POST /api/v1/ingests (Idempotency-Key ${idempotency['idempotency-key']}) → 202 ingest ${first.ingestId}`);
    const retried = (await (await api('POST', '/api/v1/ingests', request, idempotency)).json()) as typeof first;
    say(`the same request again (a client retry) → ingest ${retried.ingestId}, replayed: ${retried.replayed}`);
    const view = createProgressView((t) => process.stdout.write(t), Boolean(process.stdout.isTTY));
    let state: IngestState | undefined;
    while (!state || !['completed', 'failed', 'cancelled'].includes(state.status)) {
      await new Promise((r) => setTimeout(r, process.stdout.isTTY ? 200 : 500));
      const got = await api('GET', `/api/v1/ingests/${first.ingestId}`);
      if (got.status !== 200) throw new Error(`GET /api/v1/ingests/${first.ingestId} answered ${got.status}`);
      state = (await got.json()) as IngestState;
      view.update(state);
    }
    view.end();
    // The worker that finished the ingest invalidates just after the state says so: give it a moment.
    for (let waited = 0; waited < 3000 && (await connection.exists(recentKey)); waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    say(
      `${recentKey} after the ingest: ${(await connection.exists(recentKey)) ? 'still there' : 'invalidated (the new title shows at once)'}`,
    );

    heading(
      `Summary: ingest ${state.status} in ${(((state.finishedAt ?? state.updatedAt) - state.createdAt) / 1000).toFixed(1)} s`,
    );
    for (const s of state.stages) {
      const time = s.startedAt && s.finishedAt ? `${((s.finishedAt - s.startedAt) / 1000).toFixed(1)} s` : '';
      say(`  ${s.name.padEnd(10)} ${s.status.padEnd(9)} ${time.padStart(8)}${s.error ? `  ${s.error}` : ''}`);
    }
    say(`files under ${s3 ? where(prefix) : join(mediaRoot, BUCKET, prefix)}:`);
    for (const line of await describeOutputs(store, BUCKET, prefix)) say(line);
    if (state.status === 'completed' && !s3) say(`play it: ffplay ${join(mediaRoot, BUCKET, prefix, 'master.m3u8')}`);
    say('queues (waiting / active / completed / failed):');
    for (const c of await inspector.counts())
      say(`  ${c.queue.padEnd(16)} ${c.waiting} / ${c.active} / ${c.completed} / ${c.failed}`);

    heading('Stream sessions through the gateway');
    const gateway = apps.find((a) => a.name === 'stream-gateway') as RunningApp;
    await gatewayDemo(gateway.address, secrets.AUTH_JWT_SECRET, connection, mediaId, say);

    if (state.status === 'completed') {
      heading('Playback through the gateway');
      await playbackDemo(gateway.address, secrets.AUTH_JWT_SECRET, mediaId, say);
    }

    if (args.values.keep) {
      heading('Still running (--keep)');
      for (const app of apps) {
        const docs = app.name === 'stream-gateway' ? `, API docs ${app.address}/openapi.json` : '';
        say(
          `${app.name.padEnd(20)} ${app.address}  health ${app.address}/health, metrics ${app.address}/metrics${docs}`,
        );
      }
      if (state.status === 'completed') say(`player: ${gateway.address}/dev/player?media=${mediaId}&family=${FAMILY}`);
      say(`job API token (POST /api/v1/jobs/*): ${secrets.API_TOKEN}`);
      say(`gateway AUTH_JWT_SECRET (sign caller tokens with it): ${secrets.AUTH_JWT_SECRET}`);
      say(`Redis: ${redis.description}`);
      const pids = [...apps.map((a) => a.pid), redis.pid].filter((p) => p !== undefined);
      await writeFile(
        join(dir, 'running.json'),
        `${JSON.stringify({ apps, redisPid: redis.pid, secrets, mediaId, familyId: FAMILY }, null, 2)}\n`,
      );
      say(
        `stop them with: kill -TERM ${pids.map((p) => `-${p}`).join(' ')}   (details in ${join(dir, 'running.json')})`,
      );
    }
    return state.status === 'completed' ? 0 : 1;
  } finally {
    await inspector.close().catch(() => undefined);
    connection.disconnect();
  }
}

let code = 1;
try {
  code = await main();
} catch (error) {
  process.stderr.write(`\ndemo failed: ${(error as Error).message}\n`);
}
if (!args.values.keep || code !== 0) await cleanup();
process.exit(code);
