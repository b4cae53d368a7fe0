import type { Session } from '@nself-tv/sessions';
import { ITEM_LAYOUT } from '@nself-tv/storage';
import type { FastifyRequest } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import { hmacKey } from './auth.js';
import type { GatewayConfig } from './config.js';
import { type PlaybackGrant, PlaybackSigner } from './playback-url.js';

/**
 * Everything that grants playback, from the one `PLAYBACK_JWT_SECRET`. Two
 * forms, because the nself-tv web client needs both: it plays admit's
 * `mediaUrl` (a path signed with a compact HMAC, cheap to check on every
 * segment and carried by a playlist's relative URIs), and it reads admit's
 * `token` (the HS256 JWT its contract names) to play
 * `/api/stream/<mediaId>/manifest.m3u8?token=` when `mediaUrl` is absent.
 */
export interface PlaybackGrants {
  /** The playback JWT of a session, as admit returns it. */
  token(session: Session): Promise<string>;
  /** What a playback JWT grants, or `undefined` for one that is forged, expired or of another issuer. */
  verifyToken(token: string): Promise<{ sessionId: string; mediaId: string } | undefined>;
  /** A path signature for one media item of one session, valid `ttlSeconds`. */
  sign(sessionId: string, mediaId: string, ttlSeconds: number): string;
  /** What a path signature grants (expired or not), or `undefined` for one that is not authentic. */
  verify(signature: string): PlaybackGrant | undefined;
  /** The signed master URL for an admitted session (`PLAYBACK_URL_TTL_SECONDS`). */
  mediaUrl(request: FastifyRequest, session: Session): string;
  /** The signed trickplay WebVTT URL (sheets resolve relative to it). */
  trickplayUrl(request: FastifyRequest, session: Session): string;
  /** Lifetime of the URLs inside served playlists (the playback token's), in seconds. */
  readonly childTtlSeconds: number;
}

/** The grants of the gateway's configuration. */
export async function createPlaybackGrants(config: GatewayConfig): Promise<PlaybackGrants> {
  const { playback, playbackFiles } = config;
  const signKey = await hmacKey(playback.secret, 'sign');
  const verifyKey = await hmacKey(playback.secret, 'verify');
  const signer = new PlaybackSigner(playback.secret);
  const sign = (sessionId: string, mediaId: string, ttl: number) =>
    signer.sign({ sessionId, mediaId, exp: Math.floor(Date.now() / 1000) + ttl });
  const baseUrl = (request: FastifyRequest) =>
    (playbackFiles.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/$/, '');
  const signed = (request: FastifyRequest, session: Session, ttl: number) =>
    `${baseUrl(request)}/play/${encodeURIComponent(session.mediaId)}/${sign(session.sessionId, session.mediaId, ttl)}`;

  return {
    childTtlSeconds: playback.ttlSeconds,
    token: (session) =>
      new SignJWT({
        mediaId: session.mediaId,
        deviceId: session.deviceId,
        sessionId: session.sessionId,
        familyId: session.familyId,
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(session.userId)
        .setIssuer(playback.issuer)
        .setIssuedAt()
        .setExpirationTime(`${playback.ttlSeconds}s`)
        .sign(signKey),
    async verifyToken(token) {
      try {
        const { payload } = await jwtVerify(token, verifyKey, {
          algorithms: ['HS256'],
          issuer: playback.issuer,
          requiredClaims: ['exp'],
        });
        const { sessionId, mediaId } = payload as { sessionId?: unknown; mediaId?: unknown };
        return typeof sessionId === 'string' && typeof mediaId === 'string' ? { sessionId, mediaId } : undefined;
      } catch {
        return undefined;
      }
    },
    sign,
    verify: (signature) => signer.verify(signature),
    mediaUrl: (request, session) => `${signed(request, session, playbackFiles.urlTtlSeconds)}/master.m3u8`,
    trickplayUrl: (request, session) =>
      `${signed(request, session, playback.ttlSeconds)}/${ITEM_LAYOUT.trickplay.path}${ITEM_LAYOUT.trickplay.index}`,
  };
}
