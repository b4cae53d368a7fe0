import { spawn } from 'node:child_process';
import { createKeyspace, type RedisClient } from '@nself-tv/redis-keys';
import { SignJWT } from 'jose';

const HASURA = 'https://hasura.io/jwt/claims';
const USER = 'demo-user';
/** The demo's family: it ingests the sample and plays it (admit plays only a family's own media). */
export const FAMILY = 'demo-family';
const DEVICE = 'demo-living-room-tv';

type Reply = { status: number; body: Record<string, unknown> };

/** A caller token as the auth service would issue it (HS256, Hasura claims), valid 1 h. */
export function devToken(secret: string): Promise<string> {
  return new SignJWT({
    [HASURA]: { 'x-hasura-user-id': USER, 'x-hasura-family-id': FAMILY, 'x-hasura-default-role': 'user' },
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(USER)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

/** The session keys as they stand: key, type, TTL and content. */
async function sessionKeys(redis: RedisClient): Promise<string[]> {
  const keys = createKeyspace();
  const found: string[] = [];
  for (const match of [keys.pattern('session'), keys.familyStreams(FAMILY), keys.deviceStreams(DEVICE)]) {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  const out: string[] = [];
  for (const key of [...new Set(found)].sort()) {
    const [type, ttl] = await Promise.all([redis.type(key), redis.ttl(key)]);
    const content =
      type === 'set'
        ? `{${(await redis.smembers(key)).join(', ')}}`
        : type === 'string'
          ? `${(await redis.strlen(key)).toString()} bytes of JSON`
          : '';
    out.push(`  ${key.padEnd(48)} ${type.padEnd(6)} TTL ${String(ttl).padStart(4)} s  ${content}`);
  }
  return out.length ? out : ['  (none)'];
}

/**
 * Plays a family's evening against the gateway: the family's new title on two screens of one
 * device, a third refused with `device_limit`, a title that is not in the family's library
 * refused with `policy_denied`, heartbeats, the keys in Redis, then both streams ended.
 * Returns what happened for the summary and the test.
 */
export async function gatewayDemo(
  address: string,
  authSecret: string,
  redis: RedisClient,
  mediaId: string,
  say: (line: string) => void,
): Promise<{ admitted: string[]; refusal: Reply; denied: Reply }> {
  const token = await devToken(authSecret);
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const res = await fetch(`${address}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  say(`dev token for ${USER} in ${FAMILY} (HS256, Hasura claims); device ${DEVICE}, limit 2 per device`);
  const admitted: string[] = [];
  for (const screen of ['main screen', 'picture-in-picture']) {
    const r = await call('POST', '/api/v1/admit', { mediaId, deviceId: DEVICE });
    const data = r.body.data as { sessionId: string; expiresAt: string } | undefined;
    if (r.status !== 200 || !data) throw new Error(`admit failed: ${r.status} ${JSON.stringify(r.body)}`);
    admitted.push(data.sessionId);
    say(`POST /api/v1/admit ${mediaId} (${screen}) → 200 session ${data.sessionId} (expires ${data.expiresAt})`);
  }
  const refusal = await call('POST', '/api/v1/admit', { mediaId, deviceId: DEVICE });
  say(
    `POST /api/v1/admit ${mediaId} (a third stream) → ${refusal.status} ${String(refusal.body.error)}: ${String(refusal.body.message)}`,
  );
  // Admit checks who may play what: the ingest recorded this family as the title's owner, and nothing else.
  const denied = await call('POST', '/api/v1/admit', { mediaId: 'another-familys-film', deviceId: 'demo-phone' });
  say(
    `POST /api/v1/admit another-familys-film → ${denied.status} ${String(denied.body.error)}: ${String(denied.body.message)}`,
  );
  for (const id of admitted) {
    const r = await call('POST', `/api/v1/heartbeat/${id}`, { deviceId: DEVICE });
    say(`POST /api/v1/heartbeat/${id} → ${r.status} ${String(r.body.status)}, expires ${String(r.body.expiresAt)}`);
  }
  say('session keys in Redis now:');
  for (const line of await sessionKeys(redis)) say(line);
  for (const id of admitted) {
    const r = await call('DELETE', `/api/v1/session/${id}`);
    say(`DELETE /api/v1/session/${id} → ${r.status} ${String(r.body.status)}`);
  }
  say('session keys in Redis after ending both:');
  for (const line of await sessionKeys(redis)) say(line);
  return { admitted, refusal, denied };
}

/**
 * Plays the ingested media over HTTP through the gateway as a player would:
 * admit, then ffmpeg reads the signed master URL (every rendition, audio track
 * and subtitle) to the end; then the session is ended and the same URL is
 * refused. Returns the statuses for the test.
 */
export async function playbackDemo(
  address: string,
  authSecret: string,
  mediaId: string,
  say: (line: string) => void,
): Promise<{ played: boolean; afterEnd: number }> {
  const token = await devToken(authSecret);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const admit = await fetch(`${address}/api/v1/admit`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ mediaId, deviceId: 'demo-laptop' }),
  });
  const data = ((await admit.json()) as { data?: { sessionId: string; mediaUrl: string } }).data;
  if (admit.status !== 200 || !data) throw new Error(`admit for playback failed: ${admit.status}`);
  say(`POST /api/v1/admit ${mediaId} → 200, mediaUrl ${data.mediaUrl}`);
  const started = Date.now();
  const played = await new Promise<boolean>((resolve) => {
    const child = spawn('ffmpeg', ['-v', 'error', '-nostdin', '-i', data.mediaUrl, '-map', '0', '-f', 'null', '-'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (b: Buffer) => {
      errors += b.toString();
    });
    child.once('close', (code) => {
      if (errors) say(errors.trim());
      resolve(code === 0 && errors === '');
    });
  });
  say(
    `ffmpeg read the master, every rendition, audio and subtitle track over HTTP to the end: ${played ? 'ok' : 'FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  const end = await fetch(`${address}/api/v1/session/${data.sessionId}`, { method: 'DELETE', headers });
  say(`DELETE /api/v1/session/${data.sessionId} → ${end.status}`);
  // The gateway remembers a session's liveness for up to 2 s.
  await new Promise((r) => setTimeout(r, 2100));
  const afterEnd = (await fetch(data.mediaUrl)).status;
  say(`GET mediaUrl after the session ended → ${afterEnd} (playback needs a live session)`);
  return { played, afterEnd };
}
