// `pnpm test:images`: builds the three app images with podman (no Docker daemon needed) and runs
// them on a container network with a Redis container, as compose.yaml does:
//
//   - every image answers GET /health from its published port, and its own HEALTHCHECK passes;
//   - an ingest posted to the video-processor container over HTTP completes: its transcode,
//     trickplay and subtitle jobs run there, its posters and sprites in the thumbnail-generator
//     container, and the HLS lands in the shared media volume;
//   - each container exits 0 on SIGTERM (tini → Node → graceful stop).
//
// Sizes and the run time are printed at the end. Options: --keep leaves images and containers for
// a look; NODE_IMAGE=<image> builds on a Node image you have instead of the local base.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSample } from '@nself-tv/sample-media';
import { ensureBaseImage } from './base-image.mjs';
import { podman, podmanEnv, say } from './podman.mjs';

const root = new URL('../..', import.meta.url).pathname;
const keep = process.argv.includes('--keep');
const started = Date.now();
const seconds = (from) => `${((Date.now() - from) / 1000).toFixed(0)} s`;
const tag = `test-${process.pid}`;
const APPS = {
  'video-processor': { port: 5005 },
  'thumbnail-generator': { port: 5006 },
  'stream-gateway': { port: 5003 },
};
const image = (app) => `localhost/nself-tv/${app}:${tag}`;
const redisImage = `localhost/nself-tv/redis-test:${tag}`;
const network = `nself-tv-${tag}`;
const token = randomBytes(24).toString('hex');
const containers = [];
const timings = {};

function fail(message, container) {
  if (container) {
    const logs = podman(['logs', '--tail', '40', container], { allowFail: true });
    console.error(`--- last lines of ${container}:\n${logs.out}\n${logs.err}`);
  }
  throw new Error(message);
}

function build(app, nodeImage) {
  const from = Date.now();
  const args = [
    'build',
    '--format',
    'docker',
    '--target',
    app,
    '--tag',
    image(app),
    '--build-arg',
    `NODE_IMAGE=${nodeImage}`,
  ];
  // Behind a TLS-inspecting proxy the build's downloads need this machine's CA bundle.
  const bundle = process.env.SSL_CERT_FILE ?? '/etc/ssl/certs/ca-certificates.crt';
  if (existsSync(bundle)) args.push('--secret', `id=ca-certificates,src=${bundle}`);
  const r = spawnSync('podman', [...args, root], { env: podmanEnv(), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    console.error(`${r.stdout}\n${r.stderr}`.split('\n').slice(-60).join('\n'));
    fail(`building ${app} failed`);
  }
  timings[`build ${app}`] = seconds(from);
}

function runContainer(name, args) {
  const full = `${name}-${tag}`;
  podman(['run', '--detach', '--name', full, '--network', network, '--network-alias', name, ...args]);
  containers.push(full);
  return full;
}

async function waitFor(what, check, timeoutMs, container) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return fail(`${what} did not happen within ${timeoutMs / 1000} s${last ? ` (${last.message})` : ''}`, container);
}

const publishedPort = (container, port) => {
  const out = podman(['port', container, `${port}/tcp`]).out.split('\n')[0];
  return Number(out.slice(out.lastIndexOf(':') + 1));
};

async function healthy(app, container) {
  const port = publishedPort(container, APPS[app].port);
  const body = await waitFor(
    `${app} answering /health`,
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      return res.ok ? res.json() : undefined;
    },
    60_000,
    container,
  );
  if (body.status !== 'ok') fail(`${app} /health said ${JSON.stringify(body)}`, container);
  const check = podman(['healthcheck', 'run', container], { allowFail: true });
  if (!check.ok) fail(`${app}: the image's HEALTHCHECK failed: ${check.err}`, container);
  const user = podman(['exec', container, 'id', '-u']).out;
  if (user === '0') fail(`${app} runs as root`, container);
  say(`${app}: /health ok on port ${port}, HEALTHCHECK passes, uid ${user}`);
  return port;
}

async function ingestCompletes(port, request, container) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/ingests`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': `images-${process.pid}` },
    body: JSON.stringify(request),
  });
  if (res.status !== 202) fail(`POST /api/v1/ingests answered ${res.status} ${await res.text()}`, container);
  const { ingestId } = await res.json();
  const from = Date.now();
  const state = await waitFor(
    `ingest ${ingestId} finishing`,
    async () => {
      const now = await (await fetch(`http://127.0.0.1:${port}/api/v1/ingests/${ingestId}`, { headers })).json();
      return ['completed', 'failed', 'cancelled'].includes(now.status) ? now : undefined;
    },
    240_000,
    container,
  );
  const stages = state.stages.map((s) => `${s.name} ${s.status}`).join(', ');
  if (state.status !== 'completed') fail(`ingest ${state.status}: ${stages}`, container);
  timings['ingest across the two worker containers'] = seconds(from);
  return { stages, output: state.output };
}

function stopsCleanly(app, container) {
  const from = Date.now();
  podman(['stop', '--time', '40', container]);
  const code = podman(['inspect', '--format', '{{.State.ExitCode}}', container]).out;
  if (code !== '0') fail(`${app} exited ${code} on SIGTERM, not 0`, container);
  say(`${app}: SIGTERM → exit 0 in ${seconds(from)}`);
}

function cleanup(media) {
  if (keep) {
    say(`--keep: containers ${containers.join(', ')} and network ${network} are left running`);
    return;
  }
  for (const c of containers) podman(['rm', '--force', '--time', '0', c], { allowFail: true });
  podman(['network', 'rm', '--force', network], { allowFail: true });
  podman(['rmi', '--force', ...Object.keys(APPS).map(image), redisImage], { allowFail: true });
  if (media) rmSync(media, { recursive: true, force: true });
}

async function main() {
  let media;
  try {
    const nodeImage = process.env.NODE_IMAGE ?? ensureBaseImage();
    const from = Date.now();
    for (const app of Object.keys(APPS)) build(app, nodeImage);
    say(`three images built in ${seconds(from)}`);
    // A Redis as compose.yaml runs it (AOF, noeviction), from Debian's package on the same base.
    const containerfile = [
      `FROM ${nodeImage}`,
      'RUN apt-get update && apt-get install --yes --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*',
      'USER redis',
      'CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/var/lib/redis", "--appendonly", "yes", "--maxmemory-policy", "noeviction"]',
    ].join('\n');
    const redisContext = mkdtempSync(join(tmpdir(), 'nself-tv-redis-image-'));
    writeFileSync(join(redisContext, 'Containerfile'), containerfile);
    try {
      podman(['build', '--tag', redisImage, redisContext]);
    } finally {
      rmSync(redisContext, { recursive: true, force: true });
    }

    podman(['network', 'create', network]);
    media = mkdtempSync(join(tmpdir(), 'nself-tv-images-media-'));
    mkdirSync(join(media, 'media', 'uploads'), { recursive: true });
    // 8 s of 1280x720 H.264 with a tone and an English subtitle track, made by the workers' own sample maker.
    await makeSample(join(media, 'media', 'uploads'), 'sample', 1280, 720, { seconds: 8 });
    // The apps run as uid 10001; the volume is theirs to write.
    spawnSync('chown', ['-R', '10001:10001', media]);
    chmodSync(media, 0o755);

    const redis = runContainer('redis', [redisImage]);
    const common = ['--env', 'REDIS_HOST=redis', '--env', `API_TOKEN=${token}`, '--volume', `${media}:/media`];
    const vp = runContainer('video-processor', [...common, '--publish', '127.0.0.1::5005', image('video-processor')]);
    const tg = runContainer('thumbnail-generator', [
      ...common,
      '--publish',
      '127.0.0.1::5006',
      image('thumbnail-generator'),
    ]);
    const gw = runContainer('stream-gateway', [
      ...['--env', 'REDIS_HOST=redis', '--volume', `${media}:/media:ro`, '--publish', '127.0.0.1::5003'],
      ...['--env', `AUTH_JWT_SECRET=${randomBytes(32).toString('hex')}`],
      ...['--env', `PLAYBACK_JWT_SECRET=${randomBytes(32).toString('hex')}`],
      image('stream-gateway'),
    ]);

    const vpPort = await healthy('video-processor', vp);
    await healthy('thumbnail-generator', tg);
    await healthy('stream-gateway', gw);

    const ingest = await ingestCompletes(
      vpPort,
      {
        mediaId: 'sample1',
        familyId: 'fam1',
        source: { bucket: 'media', key: 'uploads/sample.mkv' },
        renditions: ['360p'],
      },
      vp,
    );
    const master = join(media, ingest.output.bucket, ingest.output.prefix, 'master.m3u8');
    if (!existsSync(master) || !readFileSync(master, 'utf8').startsWith('#EXTM3U'))
      fail(`no master playlist at ${master}`);
    say(`ingest completed in the containers (${ingest.stages}); ${ingest.output.prefix}master.m3u8 is in the volume`);

    for (const [app, c] of [
      ['video-processor', vp],
      ['thumbnail-generator', tg],
      ['stream-gateway', gw],
    ]) {
      stopsCleanly(app, c);
    }
    podman(['stop', '--time', '10', redis]);

    const sizes = Object.keys(APPS).map((app) => {
      const bytes = Number(podman(['image', 'inspect', '--format', '{{.Size}}', image(app)]).out);
      return `${app} ${(bytes / 1e6).toFixed(0)} MB`;
    });
    say(`image sizes: ${sizes.join(', ')} (base ${nodeImage})`);
    for (const [what, took] of Object.entries(timings)) say(`  ${what}: ${took}`);
    say(`passed in ${seconds(started)}`);
  } finally {
    cleanup(media);
  }
}

main().catch((error) => {
  console.error(`[images] FAILED: ${error.message}`);
  process.exit(1);
});
