// Attacks on playback: other spellings of a signature, signatures in the log, links and dot ids
// that lead into another item, malformed auth_request URIs, playlists too large to hold, secrets
// shared between callers and players, and who may play what.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestRedis } from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';
import { AUTH_SECRET, gatewayKit, PLAYBACK_SECRET, token } from './test-helpers.js';

const redis = useTestRedis();
const start = gatewayKit(redis);
let mediaRoot: string;
const item = (id: string) => join(mediaRoot, 'media', 'library', id);

/** A media item as the ingest leaves it: a master, one rendition, segments, and who may play it. */
async function writeItem(id: string, families: string[], segments = 3) {
  await mkdir(join(item(id), 'r360'), { recursive: true });
  await writeFile(
    join(item(id), 'master.m3u8'),
    '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.64001e"\nr360/index.m3u8\n',
  );
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:4', '#EXT-X-PLAYLIST-TYPE:VOD'];
  for (let i = 0; i < segments; i++) lines.push('#EXTINF:4.000000,', `seg_${String(i).padStart(3, '0')}.ts`);
  lines.push('#EXT-X-ENDLIST', '');
  await writeFile(join(item(id), 'r360', 'index.m3u8'), lines.join('\n'));
  for (let i = 0; i < segments; i++) {
    await writeFile(join(item(id), 'r360', `seg_${String(i).padStart(3, '0')}.ts`), `${id} segment ${i}`);
  }
  await writeFile(join(item(id), 'access.json'), JSON.stringify({ familyIds: families }));
}

beforeAll(async () => {
  mediaRoot = await mkdtemp(join(tmpdir(), 'gw-edges-'));
  await writeItem('film-a', ['fam-a']);
  await writeItem('film-b', ['fam-b']);
  // A link under film-a that leads to film-b's segment, and a folder link into film-b.
  await symlink(join(item('film-b'), 'r360', 'seg_000.ts'), join(item('film-a'), 'r360', 'seg_009.ts'));
  await symlink(join(item('film-b'), 'r360'), join(item('film-a'), 'b'));
  await writeItem('film-big', ['fam-a'], 1);
  await writeItem('film-long', ['fam-a'], 1);
  // Its own family: the family stream limit of fam-a is for the cases that count sessions.
  await writeItem('film-grow', ['fam-c']);
});
afterAll(() => rm(mediaRoot, { recursive: true, force: true }));

const gateway = (env: Record<string, string> = {}) =>
  start({ MEDIA_ROOT: mediaRoot, PLAYBACK_ACCESS: 'owner', ...env });

async function admitted(gw: Awaited<ReturnType<typeof gateway>>, mediaId: string, family = 'fam-a') {
  const jwt = await token(`viewer-${family}`, family);
  const res = await gw.call('POST', '/api/v1/admit', { token: jwt, body: { mediaId, deviceId: randomUUID() } });
  return { res, jwt, mediaUrl: res.body.data?.mediaUrl as string };
}

/** A GET with the path sent exactly as written (fetch would normalise dot segments and escapes). */
function rawGet(address: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(address);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('who may play what', () => {
  it('admits the family the ingest recorded and refuses every other one, and items without a record', async () => {
    const gw = await gateway();
    expect((await admitted(gw, 'film-a', 'fam-a')).res.status).toBe(200);
    const other = await admitted(gw, 'film-a', 'fam-b');
    expect(other.res).toMatchObject({ status: 403, body: { error: 'policy_denied' } });
    // An unknown item and another family's look the same.
    const unknown = await admitted(gw, 'film-nobody', 'fam-b');
    expect(unknown.res.status).toBe(403);
    expect(unknown.res.body.message).toBe(other.res.body.message);
    // No session was taken for the refusals.
    const list = await gw.call('GET', '/api/v1/sessions/fam-b', { token: other.jwt });
    expect(list.body.count).toBe(0);
  });

  it('a record the ingest did not write grants nothing: not JSON, not our shape, too large', async () => {
    const gw = await gateway();
    for (const [id, text] of [
      ['film-r1', 'fam-a'],
      ['film-r2', JSON.stringify({ familyIds: 'fam-a' })],
      ['film-r3', JSON.stringify({ familyIds: ['fam-a'], pad: 'x'.repeat(20_000) })],
      ['film-r4', JSON.stringify({ familyIds: [] })],
    ] as const) {
      await mkdir(item(id), { recursive: true });
      await writeFile(join(item(id), 'access.json'), text);
      expect((await admitted(gw, id, 'fam-a')).res.status, id).toBe(403);
    }
    // A record that is a link to another item's record is outside the item, too.
    await mkdir(item('film-r5'), { recursive: true });
    await symlink(join(item('film-a'), 'access.json'), join(item('film-r5'), 'access.json'));
    expect((await admitted(gw, 'film-r5', 'fam-a')).res.status).toBe(403);
  });

  it('a deployment’s own catalogue decides when PLAYBACK_ACCESS names it; its silence plays nothing', async () => {
    const asked: unknown[] = [];
    let answer: (res: import('node:http').ServerResponse) => void = (res) => res.end('{"allow":true}');
    const catalogue = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        asked.push(JSON.parse(body));
        answer(res);
      });
    });
    await new Promise<void>((ok) => catalogue.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(catalogue.address() as AddressInfo).port}/may-play`;
      const gw = await gateway({ PLAYBACK_ACCESS: url });
      // The catalogue's yes wins over the store (film-a is fam-a's there).
      expect((await admitted(gw, 'film-a', 'fam-c')).res.status).toBe(200);
      expect(asked[0]).toEqual({ userId: 'viewer-fam-c', familyId: 'fam-c', role: 'user', mediaId: 'film-a' });
      answer = (res) => res.end('{"allow":false,"message":"not in your plan"}');
      expect((await admitted(gw, 'film-a', 'fam-c')).res).toMatchObject({
        status: 403,
        body: { error: 'policy_denied', message: 'not in your plan' },
      });
      for (const silence of [
        (res: import('node:http').ServerResponse) => res.writeHead(500).end('{"allow":true}'),
        (res: import('node:http').ServerResponse) => res.end('{"allow":"yes"}'),
        (res: import('node:http').ServerResponse) => res.end('not json'),
        (res: import('node:http').ServerResponse) => setTimeout(() => res.end('{"allow":true}'), 3000),
      ]) {
        answer = silence;
        expect((await admitted(gw, 'film-a', 'fam-c')).res).toMatchObject({
          status: 503,
          body: { error: 'service_unavailable' },
        });
      }
    } finally {
      catalogue.closeAllConnections();
      await new Promise((ok) => catalogue.close(ok));
    }
  });

  it('the dev player signs in to the family it is asked for, so it plays that family’s media only', async () => {
    const gw = await gateway({ DEV_PLAYER: 'true' });
    const dev = async (query: string) => gw.call('POST', `/dev/token${query}`);
    expect((await dev('?family=a:b')).status).toBe(400);
    const signed = await dev('?family=fam-a');
    expect(signed.body).toMatchObject({ userId: 'dev-user', familyId: 'fam-a' });
    const play = (jwt: string, mediaId: string) =>
      gw.call('POST', '/api/v1/admit', { token: jwt, body: { mediaId, deviceId: randomUUID() } });
    expect((await play(signed.body.token, 'film-a')).status).toBe(200);
    expect((await play(signed.body.token, 'film-b')).status).toBe(403);
    expect((await dev('')).body.familyId).toBe('dev-family');
  });

  it('never serves the access record', async () => {
    const gw = await gateway();
    const { mediaUrl } = await admitted(gw, 'film-a');
    expect((await fetch(mediaUrl.replace('master.m3u8', 'access.json'))).status).toBe(404);
  });
});

describe('playback edges', () => {
  it('a signature verifies only as it was written: no other spelling of the same bytes', async () => {
    const gw = await gateway();
    const { mediaUrl } = await admitted(gw, 'film-a');
    expect((await fetch(mediaUrl)).status).toBe(200);
    const sig = mediaUrl.split('/').at(-2) as string;
    const mac = sig.split('.')[1] as string;
    // The last of 43 base64url characters carries 2 spare bits: three other letters decode to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.at(-1) as string);
    const sameBytes = [1, 2, 3].map((d) => alphabet[(last & ~3) | ((last + d) & 3)] as string);
    const variants = [
      ...sameBytes.map((c) => `${sig.slice(0, -1)}${c}`),
      `${sig}=`,
      `${sig}A`,
      `${sig.slice(0, -1)}!${sig.slice(-1)}`,
      sig.replace('.', '.='),
    ];
    // The attack is real: these decode to the very bytes of the MAC.
    for (const c of sameBytes) {
      expect(Buffer.from(`${mac.slice(0, -1)}${c}`, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    }
    for (const variant of variants) {
      expect((await fetch(mediaUrl.replace(sig, variant))).status, variant).toBe(401);
    }
  });

  it('no signature reaches the log, whatever the request', async () => {
    const gw = await gateway();
    const { mediaUrl } = await admitted(gw, 'film-a');
    const sig = mediaUrl.split('/').at(-2) as string;
    const base = mediaUrl.slice(0, mediaUrl.indexOf(sig) + sig.length);
    for (const url of [mediaUrl, `${base}`, `${base}/`, `${base}/nope.ts`, `${base}/x.bin`, `${base}?a=b`]) {
      await fetch(url);
    }
    await fetch(`${gw.address}/api/v1/playback/authorize`, {
      headers: { 'x-original-uri': `${new URL(base).pathname}/%E0%A4%A.ts` },
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(gw.logs.length).toBeGreaterThan(5);
    expect(gw.logs.filter((l) => l.includes(sig.split('.')[1] as string))).toEqual([]);
    expect(gw.logs.filter((l) => l.includes(sig.split('.')[0] as string))).toEqual([]);
  });

  it('a link under one item never serves another item’s file', async () => {
    const gw = await gateway();
    const { mediaUrl } = await admitted(gw, 'film-a');
    expect(await (await fetch(mediaUrl.replace('master.m3u8', 'r360/seg_000.ts'))).text()).toBe('film-a segment 0');
    expect((await fetch(mediaUrl.replace('master.m3u8', 'r360/seg_009.ts'))).status).toBe(404);
    expect((await fetch(mediaUrl.replace('master.m3u8', 'b/seg_000.ts'))).status).toBe(404);
    // auth_request says the same for the bytes nginx would serve.
    const path = new URL(mediaUrl.replace('master.m3u8', 'r360/seg_009.ts')).pathname;
    const auth = await fetch(`${gw.address}/api/v1/playback/authorize`, { headers: { 'x-original-uri': path } });
    expect(auth.status).toBe(403);
  });

  it('a growing playlist fetched again names its segments as before (players check), the master signs afresh', async () => {
    const gw = await gateway();
    const { mediaUrl } = await admitted(gw, 'film-grow', 'fam-c');
    const master = await (await fetch(mediaUrl)).text();
    const media = new URL(master.split('\n').find((l) => l.endsWith('r360/index.m3u8')) as string, mediaUrl).href;
    const first = await (await fetch(media)).text();
    // A later second: a signature made now would carry another expiry.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await (await fetch(media)).text()).toBe(first);
    expect(await (await fetch(mediaUrl)).text()).not.toBe(master);
    // The segments it names play.
    const segment = new URL(first.split('\n').find((l) => l.endsWith('seg_000.ts')) as string, media).href;
    expect(await (await fetch(segment)).text()).toBe('film-grow segment 0');
  });

  it('the ids . and .. are no media ids: 400 at admit, 404 on playback, never 500', async () => {
    const gw = await gateway({ PLAYBACK_ACCESS: 'any' });
    const jwt = await token('viewer-dots', 'fam-a');
    for (const mediaId of ['.', '..', '...']) {
      const res = await gw.call('POST', '/api/v1/admit', { token: jwt, body: { mediaId, deviceId: randomUUID() } });
      expect(res, mediaId).toMatchObject({ status: 400, body: { error: 'bad_request', field: 'mediaId' } });
    }
    const { mediaUrl } = await admitted(gw, 'film-a');
    const sig = mediaUrl.split('/').at(-2) as string;
    for (const id of ['%2E', '%2E%2E', '.%2E']) {
      const res = await rawGet(gw.address, `/play/${id}/${sig}/master.m3u8`);
      expect(res.status, id).toBe(404);
      expect((await rawGet(gw.address, `/api/stream/${id}/manifest.m3u8?token=x`)).status).not.toBe(500);
    }
  });

  it('auth_request answers only 204, 401 or 403 (nginx turns anything else into a 500)', async () => {
    const gw = await gateway();
    const { mediaUrl } = await admitted(gw, 'film-a');
    const pathOf = (file: string) => new URL(mediaUrl.replace('master.m3u8', file)).pathname;
    const authorize = (uri: string) =>
      fetch(`${gw.address}/api/v1/playback/authorize`, { headers: { 'x-original-uri': uri } }).then((r) => r.status);
    expect(await authorize(pathOf('r360/seg_000.ts'))).toBe(204);
    for (const uri of [
      pathOf('r360/%E0%A4%A.ts'),
      pathOf('%ZZ.ts'),
      pathOf('r360/..%2F..%2Ffilm-b%2Fr360%2Fseg_000.ts'),
      pathOf('access.json'),
      pathOf('r360/seg_000.exe'),
      '/play/%E0%A4%A/x.y/seg.ts',
      '/play/../x.y/seg.ts',
      '/elsewhere',
      '',
    ]) {
      expect([401, 403], uri).toContain(await authorize(uri));
    }
  });

  it('streams a large playlist rewritten line by line, and refuses one too large to be ours', async () => {
    const gw = await gateway();
    // 40 000 segments (a 44 h film at 4 s) with a multi-byte title that chunk boundaries split.
    const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:4', '#EXT-X-PLAYLIST-TYPE:VOD'];
    for (let i = 0; i < 40_000; i++) lines.push('#EXTINF:4.000000,Ünïcødé ✓', `seg_${i}.ts`);
    lines.push('#EXT-X-ENDLIST', '');
    await writeFile(join(item('film-long'), 'r360', 'index.m3u8'), lines.join('\n'));
    const { mediaUrl } = await admitted(gw, 'film-long');
    const variant = mediaUrl.replace('master.m3u8', 'r360/index.m3u8');
    const text = await (await fetch(variant)).text();
    const out = text.split('\n');
    expect(out.filter((l) => l === '#EXTINF:4.000000,Ünïcødé ✓')).toHaveLength(40_000);
    const uris = out.filter((l) => l && !l.startsWith('#'));
    expect(uris).toHaveLength(40_000);
    expect(uris.every((u, i) => new URL(u, variant).pathname.endsWith(`/r360/seg_${i}.ts`))).toBe(true);
    expect(out.at(-2)).toBe('#EXT-X-ENDLIST');

    await writeFile(join(item('film-big'), 'r360', 'index.m3u8'), `#EXTM3U\n${'#EXT-X-X\n'.repeat(1_200_000)}`);
    const { mediaUrl: big } = await admitted(gw, 'film-big');
    const refused = await fetch(big.replace('master.m3u8', 'r360/index.m3u8'));
    expect(refused.status).toBe(500);
    expect(await refused.json()).toMatchObject({ error: 'internal_error' });
    expect((await fetch(big)).status).toBe(200);
  });

  it('refuses to start when the caller and playback secrets are one', () => {
    const env = { AUTH_JWT_SECRET: AUTH_SECRET, PLAYBACK_JWT_SECRET: PLAYBACK_SECRET };
    expect(() => loadGatewayConfig(env)).not.toThrow();
    expect(() => loadGatewayConfig({ ...env, PLAYBACK_JWT_SECRET: AUTH_SECRET })).toThrow(
      /PLAYBACK_JWT_SECRET: must differ from AUTH_JWT_SECRET/,
    );
  });
});
