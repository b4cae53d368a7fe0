// Heartbeats/s and admit+end cycles/s through the gateway next to a bare
// Fastify route doing one Redis GET, and HLS segment serving to concurrent
// players next to the same files from a bare @fastify/static server, as
// ratios with p99, in one run.
// Usage: node bench/gateway.bench.mjs [--quick]   (after pnpm build)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run as runTool, tools } from '@nself-tv/media-tools';
import { startAppProcess, startRedisServer } from '@nself-tv/test-redis';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';

const quick = process.argv.includes('--quick');
const DURATION = quick ? 3 : Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 20;
const AUTH = 'bench-auth-secret-long-enough-0123456789abcdef';
const server = await startRedisServer();
const children = [];
const pids = new Map(); // server address -> its process id, for the CPU accounting
// However the bench ends, its servers end with it.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

// The bench's servers, started the way the tests start apps; their logs are only drained.
function start(script, readyMessage, env) {
  const app = startAppProcess(
    fileURLToPath(new URL(script, import.meta.url)),
    readyMessage,
    { REDIS_URL: server.url, ...env },
    { keepOutput: false },
  );
  children.push(app.child);
  return app.address.then((address) => {
    pids.set(address, app.child.pid);
    return address;
  });
}

// A real HLS in a media root, as the ingest lays it out: 720p, 4 s segments.
const mediaRoot = await mkdtemp(join(tmpdir(), 'gw-bench-'));
const hlsDir = join(mediaRoot, 'media', 'library', 'bench-film');
await mkdir(hlsDir, { recursive: true });
await runTool(tools.ffmpeg, [
  ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=24:duration=16'],
  ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '2800k', '-g', '48', '-f', 'hls', '-hls_time', '4'],
  ...['-hls_playlist_type', 'vod', '-hls_segment_filename', join(hlsDir, 'seg_%03d.ts'), join(hlsDir, 'master.m3u8')],
]);

// Who may play what, as the ingest records it: admit reads it (cached) on every call.
for (const id of ['m', 'bench-film']) {
  await mkdir(join(mediaRoot, 'media', 'library', id), { recursive: true });
  await writeFile(join(mediaRoot, 'media', 'library', id, 'access.json'), JSON.stringify({ familyIds: ['bench-fam'] }));
}
const gateway = await start('../dist/main.js', 'stream-gateway listening', {
  MEDIA_ROOT: mediaRoot,
  PORT: '0',
  HOST: '127.0.0.1',
  AUTH_JWT_SECRET: AUTH,
  PLAYBACK_JWT_SECRET: 'bench-playback-secret-long-enough-0123456789',
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', // as in production: a JSON line per request
  MAX_FAMILY_STREAMS: '1000',
  ADMIT_RATE_LIMIT_PER_MINUTE: '100000',
});
const bare = await start('./bare-server.mjs', 'listening', {});
const statics = await start('./static-server.mjs', 'listening', { MEDIA_ROOT: mediaRoot });
const signFor = (userId) =>
  new SignJWT({
    'https://hasura.io/jwt/claims': { 'x-hasura-user-id': userId, 'x-hasura-family-id': 'bench-fam' },
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(AUTH));
const token = await signFor('bench');
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
// Admissions are rate-limited per user (at most 100000 a minute), so the admit+end cycles
// take turns among as many users as there are connections, as real traffic comes from many.
const cycleTokens = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => signFor(`bench-user-${i}`)));

// Where the time goes: CPU time per request of the server under test, of Redis and of the
// load generator (this process), from /proc. Undefined where there is no /proc.
const tickMicros = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * tickMicros; // utime + stime
  } catch {
    return undefined;
  }
}
function cpuNow(url) {
  const own = process.cpuUsage();
  return {
    server: cpuMicros(pids.get(new URL(url).origin)),
    redis: cpuMicros(server.pid),
    generator: own.user + own.system,
  };
}

const run = async (opts) => {
  const before = cpuNow(opts.url);
  const res = await new Promise((resolve, reject) =>
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (err, r) => (err ? reject(err) : resolve(r))),
  );
  const after = cpuNow(opts.url);
  res.cpu = Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] - before[k]) / res.requests.total]));
  return res;
};

// This machine's throughput drifts between runs, so every measurement alternates with the
// baseline (ROUNDS pairs) and is compared with the baseline runs around it.
const ROUNDS = 2;
const bareGet = { url: `${bare}/get` };
async function paired(opts, perResult = (r) => r.requests.average, baseline = bareGet) {
  const ours = [];
  const base = [];
  for (let i = 0; i < ROUNDS; i++) {
    base.push(await run(baseline));
    ours.push(await run(opts));
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const cpu = (results) =>
    Object.fromEntries(Object.keys(results[0].cpu).map((k) => [k, mean(results.map((r) => r.cpu[k]))]));
  return {
    cpu: cpu(ours),
    rawCpu: cpu(base),
    ours: mean(ours.map(perResult)),
    p99: Math.max(...ours.map((r) => r.latency.p99)),
    raw: mean(base.map((r) => r.requests.average)),
    rawP99: Math.max(...base.map((r) => r.latency.p99)),
    failed: ours.reduce((n, r) => n + r.non2xx + r.errors, 0),
  };
}

await run({ ...bareGet, duration: 2 });
let cycle = 0;
const cycles = await paired(
  {
    url: gateway,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/admit',
        headers,
        // autocannon starts each cycle with an empty context: a new device, the next user.
        setupRequest: (req, context) => {
          const n = cycle++;
          context.authorization = `Bearer ${cycleTokens[n % CONNECTIONS]}`;
          context.device = `bench-device-${n}`;
          return {
            ...req,
            headers: { ...headers, authorization: context.authorization },
            body: JSON.stringify({ mediaId: 'm', deviceId: context.device }),
          };
        },
        onResponse: (status, body, context) => {
          context.sid = status === 200 ? JSON.parse(body).data.sessionId : 'none';
        },
      },
      {
        method: 'DELETE',
        setupRequest: (req, context) => ({
          ...req,
          headers: { authorization: context.authorization },
          path: `/api/v1/session/${context.sid}`,
        }),
      },
    ],
  },
  (r) => r.requests.average / 2,
);
// The session the heartbeats refresh, and the one the players play on.
async function admit(mediaId, deviceId) {
  const res = await fetch(`${gateway}/api/v1/admit`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ mediaId, deviceId }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`admit answered ${res.status}: ${JSON.stringify(body)}`);
  return body.data;
}
const sid = (await admit('m', 'hb-device')).sessionId;
// As the web client sends it: no body, the device (optionally) in X-Device-Id.
const heartbeats = await paired({
  url: `${gateway}/api/v1/heartbeat/${sid}`,
  method: 'POST',
  headers: { authorization: headers.authorization, 'x-device-id': 'hb-device' },
});
// As other clients may send it: a JSON body naming the device.
const withBody = { method: 'POST', headers, body: JSON.stringify({ deviceId: 'hb-device' }) };
const heartbeatsWithBody = await paired({ url: `${gateway}/api/v1/heartbeat/${sid}`, ...withBody }, undefined, {
  ...bareGet,
  ...withBody,
});

// Segment serving: players fetching the same segment over and over, through the gateway's
// signed, session-checked route and from the bare static server.
const { mediaUrl } = await admit('bench-film', 'player-device');
const segmentUrl = mediaUrl.replace('master.m3u8', 'seg_001.ts');
if ((await fetch(segmentUrl)).status !== 200) throw new Error('the gateway does not serve the segment');
await run({ url: segmentUrl, duration: 2 });
const viaGateway = await run({ url: segmentUrl });
const viaStatic = await run({ url: `${statics}/media/library/bench-film/seg_001.ts` });

const errors = cycles.failed + heartbeats.failed + heartbeatsWithBody.failed + viaGateway.non2xx + viaStatic.non2xx;
const rows = [
  { what: 'heartbeats/s (the web client: no body)', ...heartbeats, goal: 0.7 },
  // Against a bare route that reads the same JSON body: reading a body is Fastify's cost, not ours.
  { what: 'heartbeats/s (JSON body with deviceId) vs bare POST route', ...heartbeatsWithBody, goal: 0.7 },
  // Two requests, an admission script and two signed tokens per cycle: no goal against one GET.
  { what: 'admit+end cycles/s', ...cycles },
];
console.log(
  `\nstream-gateway bench: ${CONNECTIONS} connections, ${DURATION} s each, autocannon, ${ROUNDS} rounds alternating with the baseline; baseline = bare Fastify route with one Redis GET (POST with the same body for the body row)\n`,
);
console.log('| measured | ours (p99 ms) | bare route (p99 ms) | ratio | goal |');
console.log('| --- | ---: | ---: | ---: | --- |');
const verdict = (ratio, goal) => (goal === undefined ? '—' : `≥ ${goal} ${ratio >= goal ? 'met' : 'NOT met'}`);
for (const r of rows) {
  const ratio = r.ours / r.raw;
  console.log(
    `| ${r.what} | ${r.ours.toFixed(0)} (${r.p99}) | ${r.raw.toFixed(0)} (${r.rawP99}) | ${ratio.toFixed(2)} | ${verdict(ratio, r.goal)} |`,
  );
}
const mb = (r) => r.throughput.average / 1e6;
const segRatio = mb(viaGateway) / mb(viaStatic);
console.log(
  `| segment serving, ${CONNECTIONS} players (MB/s, p99 ms) vs @fastify/static | ${mb(viaGateway).toFixed(0)} (${viaGateway.latency.p99}) | ${mb(viaStatic).toFixed(0)} (${viaStatic.latency.p99}) | ${segRatio.toFixed(2)} | ≥ 0.8 ${segRatio >= 0.8 ? 'met' : 'NOT met'} |`,
);
// Where the rest goes: the three processes share this machine's cores, so every microsecond
// of CPU one of them spends on a request is a microsecond the others cannot.
const us = (v) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(1));
console.log('\n| CPU µs per request (ours / bare route) | server | Redis | load generator |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows) {
  const cell = (k) => `${us(r.cpu[k])} / ${us(r.rawCpu[k])}`;
  console.log(`| ${r.what.split(' vs ')[0]} | ${cell('server')} | ${cell('redis')} | ${cell('generator')} |`);
}
if (errors > 0) console.log(`\n${errors} requests failed or were not 2xx during the run`);
console.log(
  `BENCH ${JSON.stringify({ package: 'stream-gateway', what: 'segment serving MB/s vs @fastify/static', ours: mb(viaGateway), raw: mb(viaStatic), ratio: segRatio, goal: '>= 0.8' })}`,
);
for (const r of rows) {
  const bench = { package: 'stream-gateway', what: r.what, ours: r.ours, raw: r.raw, ratio: r.ours / r.raw };
  console.log(`BENCH ${JSON.stringify(r.goal === undefined ? bench : { ...bench, goal: `>= ${r.goal}` })}`);
}
for (const c of children) c.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 300));
await server.close();
await rm(mediaRoot, { recursive: true, force: true });
