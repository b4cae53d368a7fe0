// Admit+end cycles/s and heartbeats/s through the gateway next to a bare
// Fastify route doing one Redis GET, as ratios with p99, in one run.
// Usage: node bench/gateway.bench.mjs [--quick]   (after pnpm build)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '@nself-tv/test-redis';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';

const quick = process.argv.includes('--quick');
const DURATION = quick ? 3 : 10;
const CONNECTIONS = 20;
const AUTH = 'bench-auth-secret-long-enough-0123456789abcdef';
const server = await startRedisServer();
const children = [];

function start(script, env) {
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], {
    env: { ...process.env, REDIS_URL: server.url, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve) => {
    let buf = '';
    const onData = (b) => {
      buf += b.toString();
      for (const line of buf.split('\n')) {
        if (!line.includes('listening')) continue;
        try {
          const address = JSON.parse(line).address;
          if (!address) continue;
          // From here on the logs are only drained.
          child.stdout.off('data', onData);
          child.stdout.resume();
          resolve(address);
          return;
        } catch {}
      }
    };
    child.stdout.on('data', onData);
  });
}

const gateway = await start('../dist/main.js', {
  PORT: '0',
  HOST: '127.0.0.1',
  AUTH_JWT_SECRET: AUTH,
  PLAYBACK_JWT_SECRET: 'bench-playback-secret-long-enough-0123456789',
  LOG_LEVEL: 'info', // as in production: two JSON lines per request
  MAX_FAMILY_STREAMS: '1000',
  ADMIT_RATE_LIMIT_PER_MINUTE: '100000',
});
const bare = await start('./bare-server.mjs', {});
const token = await new SignJWT({
  'https://hasura.io/jwt/claims': { 'x-hasura-user-id': 'bench', 'x-hasura-family-id': 'bench-fam' },
})
  .setProtectedHeader({ alg: 'HS256' })
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(AUTH));
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

const run = (opts) =>
  new Promise((resolve, reject) =>
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );

// Warm-up, then measurements.
await run({ url: `${bare}/get`, duration: 2 });
const baseline = await run({ url: `${bare}/get` });
let device = 0;
const cycles = await run({
  url: gateway,
  requests: [
    {
      method: 'POST',
      path: '/api/v1/admit',
      headers,
      setupRequest: (req, context) => {
        context.device ??= `bench-device-${device++}`;
        return { ...req, body: JSON.stringify({ mediaId: 'm', deviceId: context.device }) };
      },
      onResponse: (status, body, context) => {
        context.sid = status === 200 ? JSON.parse(body).data.sessionId : 'none';
      },
    },
    {
      method: 'DELETE',
      headers: { authorization: headers.authorization },
      setupRequest: (req, context) => ({ ...req, path: `/api/v1/session/${context.sid}` }),
    },
  ],
});
const admitted = await fetch(`${gateway}/api/v1/admit`, {
  method: 'POST',
  headers,
  body: JSON.stringify({ mediaId: 'm', deviceId: 'hb-device' }),
});
const sid = (await admitted.json()).data.sessionId;
const heartbeats = await run({
  url: `${gateway}/api/v1/heartbeat/${sid}`,
  method: 'POST',
  headers,
  body: JSON.stringify({ deviceId: 'hb-device' }),
});

const errors = cycles.non2xx + heartbeats.non2xx + cycles.errors + heartbeats.errors;
const rows = [
  { what: 'admit+end cycles/s', ours: cycles.requests.average / 2, p99: cycles.latency.p99 },
  { what: 'heartbeats/s', ours: heartbeats.requests.average, p99: heartbeats.latency.p99 },
];
console.log(
  `\nstream-gateway bench: ${CONNECTIONS} connections, ${DURATION} s each, autocannon; baseline = bare Fastify route with one Redis GET\n`,
);
console.log('| measured | ours (p99 ms) | bare route (p99 ms) | ratio | goal |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const r of rows) {
  const ratio = r.ours / baseline.requests.average;
  console.log(
    `| ${r.what} | ${r.ours.toFixed(0)} (${r.p99}) | ${baseline.requests.average.toFixed(0)} (${baseline.latency.p99}) | ${ratio.toFixed(2)} | ≥ 0.7 ${ratio >= 0.7 ? 'met' : 'NOT met'} |`,
  );
}
if (errors > 0) console.log(`\n${errors} requests failed or were not 2xx during the run`);
for (const r of rows) {
  console.log(
    `BENCH ${JSON.stringify({ package: 'stream-gateway', what: r.what, ours: r.ours, raw: baseline.requests.average, ratio: r.ours / baseline.requests.average, goal: '>= 0.7' })}`,
  );
}
for (const c of children) c.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 300));
await server.close();
