import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a playback URL grants: one media item, for one session, until `exp` (seconds). */
export interface PlaybackGrant {
  sessionId: string;
  mediaId: string;
  exp: number;
}

/**
 * Compact signatures for playback paths: `base64url(json).base64url(hmac)`,
 * HMAC-SHA256 with a key derived from the playback secret. Cheaper than a JWT
 * on every segment request, and a path segment, so the relative URIs of a
 * playlist carry it without rewriting.
 */
export class PlaybackSigner {
  private readonly key: Buffer;

  constructor(secret: Uint8Array) {
    // A key of its own: a playback-URL signature can never be replayed as a JWT signature.
    this.key = createHmac('sha256', Buffer.from(secret)).update('nself-tv playback url v1').digest();
  }

  sign(grant: PlaybackGrant): string {
    const body = Buffer.from(JSON.stringify({ s: grant.sessionId, m: grant.mediaId, e: grant.exp })).toString(
      'base64url',
    );
    return `${body}.${this.mac(body)}`;
  }

  /** The grant of a well-formed, authentic signature (expired or not), else `undefined`. */
  verify(token: string): PlaybackGrant | undefined {
    if (token.length > 512) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    // The MAC is compared as the exact text it was sent as: decoding first would let other
    // spellings of the same bytes (trailing bits, stray characters base64 decoders skip) verify.
    const given = Buffer.from(token.slice(dot + 1), 'latin1');
    const expected = Buffer.from(this.mac(body), 'latin1');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    // The body, too, must be the one spelling the signer writes.
    if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
    try {
      const g = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
        s?: unknown;
        m?: unknown;
        e?: unknown;
      };
      if (typeof g.s !== 'string' || typeof g.m !== 'string' || typeof g.e !== 'number') return undefined;
      return { sessionId: g.s, mediaId: g.m, exp: g.e };
    } catch {
      return undefined;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
