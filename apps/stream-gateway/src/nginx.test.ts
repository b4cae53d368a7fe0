// The README's nginx configuration, as written, in Debian's real nginx on a free port: a viewer
// admits through nginx, plays the signed master through it to the end with ffmpeg (a stock HLS
// client), never leaves it, and gets every segment from nginx's disk after the gateway's
// auth_request said yes; a tampered URL, a planted link and an ended session are refused.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runLog, tools } from '@nself-tv/media-tools';
import { freePort, harnessEnv, useTestRedis } from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayKit, token } from './test-helpers.js';

const redis = useTestRedis();
const start = gatewayKit(redis);
let dir: string;
let mediaRoot: string;
let nginx: ChildProcess | undefined;
const FAMILY = 'fam-nginx';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-nginx-'));
  mediaRoot = join(dir, 'media-root');
  const item = join(mediaRoot, 'media', 'library', 'film-n');
  await run(tools.ffmpeg, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=6'],
    ...['-f', 'lavfi', '-i', 'sine=duration=6', '-map', '0:v', '-map', '1:a', '-c:v', 'libx264'],
    ...['-preset', 'ultrafast', '-c:a', 'aac', '-g', '50', '-f', 'hls', '-hls_time', '2'],
    ...['-hls_playlist_type', 'vod', '-master_pl_name', 'master.m3u8', '-var_stream_map', 'v:0,a:0,name:180p'],
    ...['-hls_segment_filename', join(item, '%v', 'seg_%03d.ts'), join(item, '%v', 'index.m3u8')],
  ]);
  await writeFile(join(item, 'access.json'), JSON.stringify({ familyIds: [FAMILY] }));
  // Another family's item, and a link to its segment planted under this one.
  await mkdir(join(mediaRoot, 'media', 'library', 'film-other', '180p'), { recursive: true });
  await writeFile(join(mediaRoot, 'media', 'library', 'film-other', '180p', 'seg_000.ts'), 'other family');
  await symlink(
    join(mediaRoot, 'media', 'library', 'film-other', '180p', 'seg_000.ts'),
    join(item, '180p', 'seg_099.ts'),
  );
});
afterAll(async () => {
  nginx?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** The README's nginx block, with the gateway's address and the media folder put in. */
async function readmeBlock(gateway: string): Promise<string> {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('the README has no nginx block');
  expect(block).toContain('http://gateway:5003');
  expect(block).toContain('/srv/media/');
  return block.replaceAll('http://gateway:5003', `http://${gateway}`).replaceAll('/srv/media/', `${mediaRoot}/`);
}

async function startNginx(gateway: string): Promise<string> {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const temp = (name: string) => `${name}_temp_path ${join(dir, `${name}-temp`)};`;
  await writeFile(
    conf,
    [
      'daemon off;',
      'master_process off;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 64; }',
      'http {',
      `  access_log ${join(dir, 'access.log')};`,
      `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
      '  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; text/vtt vtt; image/jpeg jpg; }',
      '  server {',
      `    listen 127.0.0.1:${port};`,
      await readmeBlock(gateway),
      '  }',
      '}',
    ].join('\n'),
  );
  const check = spawnSync('nginx', ['-t', '-q', '-p', dir, '-e', join(dir, 'error.log'), '-c', conf], {
    encoding: 'utf8',
  });
  expect(check.status, check.stderr).toBe(0);
  nginx = spawn('nginx', ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf], {
    stdio: 'ignore',
    env: { ...process.env, ...harnessEnv() },
  });
  const address = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${address}/nothing`).then(
        () => true,
        () => false,
      )
    )
      return address;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not start: ${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`);
}

const linesOf = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

describe('behind nginx with auth_request, as the README says', () => {
  it('admits, plays and stays on nginx; segments come from nginx’s disk; refusals hold', async () => {
    const gw = await start({ MEDIA_ROOT: mediaRoot, PLAYBACK_ACCESS: 'owner', TRUST_PROXY: '127.0.0.1' });
    const proxy = await startNginx(new URL(gw.address).host);
    const jwt = await token('viewer-n', FAMILY);

    // Admit through nginx: mediaUrl names nginx, from its X-Forwarded-Host.
    const admit = await fetch(`${proxy}/api/v1/admit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mediaId: 'film-n', deviceId: randomUUID() }),
    });
    expect(admit.status).toBe(200);
    const { mediaUrl, sessionId } = ((await admit.json()) as { data: { mediaUrl: string; sessionId: string } }).data;
    expect(mediaUrl.startsWith(`${proxy}/play/film-n/`)).toBe(true);

    // Every URI of every playlist resolves on nginx; segments are nginx's own files (no gateway request id).
    const master = await fetch(mediaUrl);
    expect(master.status).toBe(200);
    const variants = linesOf(await master.text()).map((u) => new URL(u, mediaUrl).href);
    expect(variants.length).toBeGreaterThan(0);
    let segments = 0;
    for (const variant of variants) {
      expect(variant.startsWith(`${proxy}/play/film-n/`)).toBe(true);
      const playlist = await fetch(variant);
      expect(playlist.headers.get('x-request-id')).not.toBeNull();
      for (const uri of linesOf(await playlist.text())) {
        const url = new URL(uri, variant).href;
        expect(url.startsWith(`${proxy}/play/film-n/`)).toBe(true);
        const segment = await fetch(url);
        expect(segment.status, url).toBe(200);
        expect(segment.headers.get('x-request-id')).toBeNull();
        expect(segment.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
        expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(1000);
        segments++;
      }
    }
    expect(segments).toBeGreaterThanOrEqual(3);
    const served = await (await fetch(`${gw.address}/metrics`)).text();
    expect(served).toMatch(/nself_tv_playback_requests_total\{result="ok",kind="segment"\} 0\n/);

    // A stock HLS client reads it all through nginx.
    const said = await runLog(
      tools.ffmpeg,
      ['-v', 'error', '-nostdin', '-i', mediaUrl, '-map', '0', '-f', 'null', '-'],
      { maxChars: 1_000_000, keep: 'tail' },
    );
    expect(said).toBe('');
    const log = await readFile(join(dir, 'access.log'), 'utf8');
    expect(log).toMatch(/GET \/play\/film-n\/[^/]+\/180p\/seg_002\.ts HTTP\/1\.1" 200/);

    const sig = new URL(mediaUrl).pathname.split('/')[3] as string;
    const segmentUrl = mediaUrl.replace('master.m3u8', '180p/seg_000.ts');
    expect((await fetch(segmentUrl.replace(sig, `${sig.slice(0, -1)}x`))).status).toBe(401);
    expect((await fetch(segmentUrl.replace('seg_000', 'seg_099'))).status).toBe(403);
    // nginx itself refuses a malformed escape (400); the gateway's answer to one is 403 (playback-edges).
    expect([400, 403]).toContain((await fetch(mediaUrl.replace('master.m3u8', '180p/%E0%A4%A.ts'))).status);
    expect(
      (await fetch(mediaUrl.replace('/film-n/', '/film-other/').replace('master.m3u8', '180p/seg_000.ts'))).status,
    ).toBe(403);

    // The session ends: nginx refuses the next segment within the gateway's 2 s liveness window.
    await gw.call('DELETE', `/api/v1/session/${sessionId}`, { token: jwt });
    const ended = Date.now();
    while ((await fetch(segmentUrl)).status === 200) {
      expect(Date.now() - ended).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await fetch(segmentUrl)).status).toBe(403);
    expect(await readFile(join(dir, 'error.log'), 'utf8')).not.toMatch(/auth request unexpected status/);
  }, 60_000);
});
