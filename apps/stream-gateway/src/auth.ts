import type { webcrypto } from 'node:crypto';
import { isSafeId } from '@nself-tv/redis-keys';
import { HttpError } from '@nself-tv/service';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { GatewayConfig } from './config.js';

/** Who is calling, from their verified token. */
export interface Caller {
  userId: string;
  familyId: string;
  role: string | undefined;
}

/** Reads a claim by name, or by JSON Pointer when the path starts with '/'. */
export function readClaim(payload: JWTPayload, path: string): unknown {
  if (!path.startsWith('/')) return payload[path];
  let node: unknown = payload;
  for (const raw of path.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

const first = (payload: JWTPayload, paths: string[]) => {
  for (const path of paths) {
    const value = readClaim(payload, path);
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
};

/**
 * Imports an HS256 secret once. jose 6 runs on WebCrypto and would import a raw
 * secret again on every sign or verify, which costs more than the rest of a request.
 */
export function hmacKey(secret: Uint8Array, usage: 'sign' | 'verify'): Promise<webcrypto.CryptoKey> {
  return crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

/** Verifies `Authorization: Bearer <jwt>` and returns the caller, or throws 401. */
export async function createAuthenticator(auth: GatewayConfig['auth']) {
  const key: webcrypto.CryptoKey | JWTVerifyGetKey | undefined = auth.secret
    ? await hmacKey(auth.secret, 'verify')
    : auth.jwksUrl
      ? createRemoteJWKSet(new URL(auth.jwksUrl))
      : undefined;
  if (!key) throw new Error('no key to verify tokens with');
  const skew = auth.clockSkewSeconds;
  const options = {
    ...(auth.secret ? { algorithms: ['HS256'] } : { algorithms: ['RS256', 'ES256', 'EdDSA', 'PS256'] }),
    // A token without `exp` would never expire; `nbf` and `exp` are checked with this much skew.
    requiredClaims: ['exp'],
    clockTolerance: skew,
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };
  // A client sends the same token with every heartbeat; a verified token is
  // remembered (by its full text) until it expires, for at most a minute, so
  // WebCrypto runs once per token rather than once per request.
  // The caller (claims read) is what is remembered: reading claims by JSON Pointer on every
  // heartbeat showed in the profile.
  const verified = new Map<string, { caller: Caller; until: number }>();
  const remember = (jwt: string, payload: JWTPayload, caller: Caller) => {
    if (verified.size >= 10_000) verified.delete(verified.keys().next().value as string);
    const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY;
    verified.set(jwt, { caller, until: Math.min(exp, Date.now() + 60_000) });
  };
  return async (header: string | undefined): Promise<Caller> => {
    const match = header ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header) : null;
    const jwt = match?.[1];
    if (!jwt) throw new HttpError('unauthorized', 'an Authorization: Bearer <token> header is required');
    const hit = verified.get(jwt);
    if (hit && hit.until > Date.now()) return hit.caller;
    let payload: JWTPayload;
    try {
      payload = (typeof key === 'function' ? await jwtVerify(jwt, key, options) : await jwtVerify(jwt, key, options))
        .payload;
    } catch {
      verified.delete(jwt);
      // Which check failed (signature, expiry, audience) is not the caller's business.
      throw new HttpError('unauthorized', 'the token is invalid or expired');
    }
    // jose checks `iat` only against a maximum age; a token issued in the future is refused here.
    if (payload.iat !== undefined && (typeof payload.iat !== 'number' || payload.iat > Date.now() / 1000 + skew)) {
      throw new HttpError('unauthorized', 'the token is invalid or expired');
    }
    const userId = first(payload, auth.userIdClaims);
    const familyId = first(payload, auth.familyIdClaims);
    if (!isSafeId(userId) || !isSafeId(familyId)) {
      throw new HttpError('unauthorized', 'the token does not carry a valid user id and family id');
    }
    const caller = { userId, familyId, role: first(payload, auth.roleClaims) };
    remember(jwt, payload, caller);
    return caller;
  };
}
