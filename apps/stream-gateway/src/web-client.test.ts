// The nself-tv web client's calls (usePlaybackSession) replayed as it sends them, and playback
// of a real HLS (made by ffmpeg) gated by the session.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runLog, tools } from '@nself-tv/media-tools';
import { createKeyspace } from '@nself-tv/redis-keys';
import { useTestRedis } from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaybackSigner } from './playback-url.js';
import { gatewayKit, PLAYBACK_SECRET, token } from './test-helpers.js';

const redis = useTestRedis();
const start = gatewayKit(redis);
let mediaRoot: string;

beforeAll(async () => {
  mediaRoot = await mkdtemp(join(tmpdir(), 'gw-media-'));
  // A real HLS, as ffmpeg writes it: a master, two renditions, 2 s segments, a subtitle track and trickplay files.
  const dir = join(mediaRoot, 'media', 'library', 'film-1');
  await mkdir(join(dir, 'trickplay'), { recursive: true });
  await run(tools.ffmpeg, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=6'],
    ...['-f', 'lavfi', '-i', 'sine=duration=6', '-filter_complex', '[0:v]split=2[a][b];[b]scale=320:180[c]'],
    ...['-map', '[a]', '-map', '[c]', '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'],
    ...['-g', '50', '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-master_pl_name', 'master.m3u8'],
    ...['-var_stream_map', 'v:0,agroup:aud,name:360p v:1,agroup:aud,name:180p a:0,agroup:aud,name:audio'],
    ...['-hls_segment_filename', join(dir, '%v', 'seg_%03d.ts'), join(dir, '%v', 'index.m3u8')],
  ]);
  await writeFile(
    join(dir, 'trickplay', 'trickplay.vtt'),
    'WEBVTT\n\n00:00:00.000 --> 00:00:06.000\nsprite_000.jpg#xywh=0,0,320,180\n',
  );
  // Who may play it, as the ingest records it.
  await writeFile(
    join(dir, 'access.json'),
    JSON.stringify({ familyIds: ['fam-client', 'fam-codes', 'fam-play', 'fam-end'] }),
  );
  await writeFile(join(mediaRoot, 'secret.txt'), 'outside the media root');
  await symlink(join(mediaRoot, 'secret.txt'), join(dir, 'link.ts'));
});
afterAll(() => rm(mediaRoot, { recursive: true, force: true }));

const gateway = () => start({ MEDIA_ROOT: mediaRoot, LOG_LEVEL: 'info', PLAYBACK_ACCESS: 'owner' });
/** The non-comment lines of a playlist, resolved against the URL it was fetched from. */
const urisOf = (text: string, from: string) =>
  text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => new URL(l, from).href);

/** The client's admit body: its own ids and its own statements about role and ratings. */
const clientAdmit = (deviceId: string, extra: Record<string, unknown> = {}) => ({
  userId: 'viewer-1',
  mediaId: 'film-1',
  deviceId,
  familyId: 'fam-client',
  userRole: 'user',
  contentRating: 'PG-13',
  profileContentRatingLimit: 'R',
  ...extra,
});

describe('the web client, unchanged', () => {
  it('admit, heartbeat with no body or an empty JSON body, end with an empty JSON body', async () => {
    const gw = await gateway();
    const jwt = await token('viewer-1', 'fam-client');
    const deviceId = randomUUID();
    const admit = await gw.call('POST', '/api/v1/admit', { token: jwt, body: clientAdmit(deviceId) });
    expect(admit.status).toBe(200);
    const { sessionId, mediaUrl, token: playbackToken, expiresAt } = admit.body.data;
    expect(sessionId).toMatch(/[0-9a-f-]{36}/);
    expect(mediaUrl).toMatch(new RegExp(`^${gw.address}/play/film-1/[^/]+/master\\.m3u8$`));
    expect(typeof playbackToken).toBe('string');
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    // The client's statements are logged, never used: an "admin" claim in the body changes nothing.
    expect(gw.logs.some((l) => l.includes('"contentRating":"PG-13"') && l.includes('"tokenRole":"user"'))).toBe(true);

    const raw = (method: string, path: string, headers: Record<string, string>, body?: string) =>
      fetch(`${gw.address}${path}`, { method, headers: { authorization: `Bearer ${jwt}`, ...headers }, body });
    // Every 60 s with no body at all.
    expect((await raw('POST', `/api/v1/heartbeat/${sessionId}`, {})).status).toBe(200);
    // What many fetch wrappers send: a JSON content type and an empty body.
    expect(
      (await raw('POST', `/api/v1/heartbeat/${sessionId}`, { 'content-type': 'application/json' }, '')).status,
    ).toBe(200);
    // A device id, when sent, must be the session's.
    expect((await raw('POST', `/api/v1/heartbeat/${sessionId}`, { 'x-device-id': deviceId })).status).toBe(200);
    const other = await raw('POST', `/api/v1/heartbeat/${sessionId}`, { 'x-device-id': randomUUID() });
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error: 'session_not_found' });
    // Another user's token cannot keep this session alive.
    const stranger = await token('viewer-2', 'fam-client');
    const foreign = await fetch(`${gw.address}/api/v1/heartbeat/${sessionId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stranger}` },
    });
    expect(foreign.status).toBe(404);

    const end = await raw('DELETE', `/api/v1/session/${sessionId}`, { 'content-type': 'application/json' }, '');
    expect(end.status).toBe(200);
    expect(
      await redis.client.exists(
        createKeyspace({ namespace: redis.namespace, cluster: redis.cluster }).session(sessionId),
      ),
    ).toBe(0);
  });

  it('keeps the status codes and bodies the client branches on', async () => {
    const gw = await gateway();
    const body = clientAdmit(randomUUID(), { familyId: 'fam-codes', userId: 'viewer-c' });
    const none = await gw.call('POST', '/api/v1/admit', { body });
    expect(none).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    const restricted = await token('viewer-c', 'fam-codes', { role: 'restricted' });
    const denied = await gw.call('POST', '/api/v1/admit', { token: restricted, body: { ...body, userRole: 'admin' } });
    expect(denied.status).toBe(403);
    expect(typeof denied.body.message).toBe('string');
    const jwt = await token('viewer-c', 'fam-codes');
    const device = randomUUID();
    for (let i = 0; i < 2; i++) {
      expect((await gw.call('POST', '/api/v1/admit', { token: jwt, body: { ...body, deviceId: device } })).status).toBe(
        200,
      );
    }
    const full = await gw.call('POST', '/api/v1/admit', { token: jwt, body: { ...body, deviceId: device } });
    expect(full).toMatchObject({ status: 429, body: { error: 'device_limit' } });
    const bad = await gw.call('POST', '/api/v1/admit', {
      token: jwt,
      body: { ...body, contentRating: 'x'.repeat(500) },
    });
    expect(bad).toMatchObject({ status: 400, body: { error: 'bad_request', field: 'contentRating' } });
  });
});

describe('playback gated by the session', () => {
  it('serves the HLS at mediaUrl with every child URI signed, ranges and validators; ffmpeg plays it to the end', async () => {
    const gw = await gateway();
    const jwt = await token('viewer-p', 'fam-play');
    const admit = await gw.call('POST', '/api/v1/admit', {
      token: jwt,
      body: clientAdmit(randomUUID(), { userId: 'viewer-p', familyId: 'fam-play' }),
    });
    const { mediaUrl, trickplayUrl } = admit.body.data;
    const master = await fetch(mediaUrl);
    expect(master.status).toBe(200);
    expect(master.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(master.headers.get('cache-control')).toBe('private, max-age=2');
    const text = await master.text();
    // Relative URIs under a fresh signature: a player stays on the host and path it came through.
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^\.\.\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\/[^/]+\/index\.m3u8$/);
    }
    const uris = urisOf(text, mediaUrl);
    expect(uris.length).toBeGreaterThan(1);
    for (const uri of uris) expect(uri).toMatch(new RegExp(`^${gw.address}/play/film-1/[^/]+/[^/]+/index\\.m3u8$`));
    // Attribute URIs (the audio rendition) are signed too.
    expect(text).toMatch(/URI="\.\.\/[^/"]+\/audio\/index\.m3u8"/);
    const media = await (await fetch(uris[0] as string)).text();
    const segment = urisOf(media, uris[0] as string)[0] as string;
    const seg = await fetch(segment);
    expect(seg.status).toBe(200);
    expect(seg.headers.get('content-type')).toBe('video/mp2t');
    expect(seg.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const etag = seg.headers.get('etag') as string;
    const bytes = Buffer.from(await seg.arrayBuffer());
    const part = await fetch(segment, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(10, 20));
    expect((await fetch(segment, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const head = await fetch(segment, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    expect((await fetch(trickplayUrl)).headers.get('content-type')).toBe('text/vtt; charset=utf-8');

    // A stock player needs nothing special: ffmpeg's HLS demuxer reads the signed URL to the end.
    const said = await runLog(
      tools.ffmpeg,
      ['-v', 'error', '-nostdin', '-i', mediaUrl, '-map', '0', '-f', 'null', '-'],
      { maxChars: 1_000_000, keep: 'tail' },
    );
    expect(said).toBe('');
    const metrics = await (await fetch(`${gw.address}/metrics`)).text();
    expect(metrics).toMatch(/nself_tv_playback_requests_total\{result="ok",kind="segment"\} [1-9]/);
    expect(metrics).toMatch(/nself_tv_playback_bytes_total\{kind="segment"\} [1-9]/);
  });

  it('after DELETE the next request is refused (403) within a few seconds; so is a tampered, expired or other-media URL', async () => {
    const gw = await gateway();
    const jwt = await token('viewer-e', 'fam-end');
    const admit = await gw.call('POST', '/api/v1/admit', {
      token: jwt,
      body: clientAdmit(randomUUID(), { userId: 'viewer-e', familyId: 'fam-end' }),
    });
    const { sessionId, mediaUrl, token: playbackToken } = admit.body.data;
    const master = await (await fetch(mediaUrl)).text();
    const variant = urisOf(master, mediaUrl)[0] as string;
    const segment = urisOf(await (await fetch(variant)).text(), variant)[0] as string;
    expect((await fetch(segment)).status).toBe(200);

    const sig = mediaUrl.split('/').at(-2) as string;
    const tampered = mediaUrl.replace(sig, `${sig.slice(0, -2)}AA`);
    expect((await fetch(tampered)).status).toBe(401);
    expect((await fetch(mediaUrl.replace('/film-1/', '/film-2/'))).status).toBe(403);
    const signer = new PlaybackSigner(new TextEncoder().encode(PLAYBACK_SECRET));
    const expired = signer.sign({ sessionId, mediaId: 'film-1', exp: Math.floor(Date.now() / 1000) - 1 });
    expect((await fetch(mediaUrl.replace(sig, expired))).status).toBe(403);
    // No path leaves the media root: dot segments and a planted link.
    expect((await fetch(`${mediaUrl.replace('master.m3u8', '')}..%2F..%2F..%2Fsecret.txt`)).status).toBe(404);
    expect((await fetch(mediaUrl.replace('master.m3u8', 'link.ts'))).status).toBe(404);

    // The client's fallback path with the playback token.
    const fallback = `${gw.address}/api/stream/film-1/manifest.m3u8?token=${playbackToken}`;
    expect((await fetch(fallback)).status).toBe(200);
    expect((await fetch(`${gw.address}/api/stream/film-2/manifest.m3u8?token=${playbackToken}`)).status).toBe(403);
    expect((await fetch(`${gw.address}/api/stream/film-1/manifest.m3u8`)).status).toBe(401);
    // nginx auth_request: the same rules, no bytes.
    const authorize = (uri: string) =>
      fetch(`${gw.address}/api/v1/playback/authorize`, { headers: { 'x-original-uri': uri } }).then((r) => r.status);
    const path = new URL(segment).pathname;
    const segmentSig = path.split('/')[3] as string;
    expect(await authorize(path)).toBe(204);
    expect(await authorize(path.replace(segmentSig, 'nope.nope'))).toBe(401);

    const ended = await gw.call('DELETE', `/api/v1/session/${sessionId}`, { token: jwt });
    expect(ended.status).toBe(200);
    const started = Date.now();
    while ((await fetch(segment)).status === 200) {
      expect(Date.now() - started).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await fetch(segment)).status).toBe(403);
    expect((await fetch(mediaUrl)).status).toBe(403);
    expect((await fetch(fallback)).status).toBe(403);
    expect(await authorize(path)).toBe(403);
  });
});
