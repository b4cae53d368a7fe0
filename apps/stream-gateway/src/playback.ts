import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import type { PlaybackEvent, TvMetrics } from '@nself-tv/metrics';
import { isSafeId } from '@nself-tv/redis-keys';
import { HttpError } from '@nself-tv/service';
import type { Session } from '@nself-tv/sessions';
import { type HlsLayout, ITEM_LAYOUT, keyProblem, type MediaStorage, StorageError } from '@nself-tv/storage';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { PlaybackGrants } from './playback-grant.js';
import type { PlaybackGrant } from './playback-url.js';
import { rewritePlaylist } from './playlist-rewrite.js';

/**
 * Router options the playback routes need from the Fastify instance they are added to:
 * playback signatures are a path parameter of about 150 characters (Fastify stops at 100).
 */
export const PLAYBACK_ROUTER_OPTIONS = { maxParamLength: 512 } as const;

/** Options of {@link playbackRoutes}. */
export interface PlaybackOptions {
  storage: MediaStorage;
  layout: HlsLayout;
  grants: PlaybackGrants;
  /** Reads a live session; `undefined` once it is ended or expired. */
  session(sessionId: string): Promise<Session | undefined>;
  metrics: TvMetrics;
}

/** How long a session's liveness is remembered: a ended session is refused within this. */
const LIVENESS_CACHE_MS = 2000;
const LIVENESS_CACHE_MAX = 50_000;

const TYPES: Record<string, { type: string; kind: PlaybackEvent['kind'] }> = {
  '.m3u8': { type: 'application/vnd.apple.mpegurl', kind: 'playlist' },
  '.ts': { type: 'video/mp2t', kind: 'segment' },
  '.m4s': { type: 'video/iso.segment', kind: 'segment' },
  '.mp4': { type: 'video/mp4', kind: 'segment' },
  '.aac': { type: 'audio/aac', kind: 'segment' },
  '.vtt': { type: 'text/vtt; charset=utf-8', kind: 'subtitle' },
  '.jpg': { type: 'image/jpeg', kind: 'image' },
  '.webp': { type: 'image/webp', kind: 'image' },
};
/** A media playlist of a 3 h film with 4 s segments is about 150 KB; a stored one over this is not ours. */
const MAX_PLAYLIST_BYTES = 8 * 1024 * 1024;
/** Playlists change (the subtitle stage rewrites the master); segments never do. */
const PLAYLIST_CACHE = 'private, max-age=2';
const SEGMENT_CACHE = 'private, max-age=31536000, immutable';

/**
 * Serves a media item's HLS (playlists, segments, subtitles, trickplay) from
 * the media store to whoever holds a signed URL for it, while its session is
 * live: `GET|HEAD /play/:mediaId/:sig/*`, the web client's fallback
 * `GET /api/stream/:mediaId/manifest.m3u8?token=`, and an `auth_request`
 * endpoint for nginx or a CDN, `GET /api/v1/playback/authorize`.
 */
export const playbackRoutes: FastifyPluginAsync<PlaybackOptions> = async (app, deps) => {
  const { storage, layout, grants, metrics } = deps;
  const liveness = new Map<string, { mediaId: string | undefined; until: number }>();

  const liveMedia = async (sessionId: string): Promise<string | undefined> => {
    const now = Date.now();
    const hit = liveness.get(sessionId);
    if (hit && hit.until > now) return hit.mediaId;
    const session = await deps.session(sessionId);
    if (liveness.size >= LIVENESS_CACHE_MAX) liveness.delete(liveness.keys().next().value as string);
    liveness.set(sessionId, { mediaId: session?.mediaId, until: now + LIVENESS_CACHE_MS });
    return session?.mediaId;
  };

  /** The grant of `sig` for `mediaId`, or why not: 401 for a bad signature, 403 for anything else. */
  const authorize = async (mediaId: string, sig: string): Promise<PlaybackGrant> => {
    const grant = grants.verify(sig);
    if (!grant) throw new HttpError('unauthorized', 'the playback signature is missing or invalid');
    if (grant.mediaId !== mediaId) throw new HttpError('policy_denied', 'this URL is for another media item');
    if (grant.exp * 1000 <= Date.now()) throw new HttpError('policy_denied', 'this playback URL has expired');
    const live = await liveMedia(grant.sessionId);
    if (live !== mediaId) {
      throw new HttpError('policy_denied', 'the playback session has ended; admit again');
    }
    return grant;
  };

  /** Only the kinds of file an HLS item is made of are served; anything else (the access record) is no file. */
  const kindOf = (path: string) => TYPES[posix.extname(path).toLowerCase()];
  const record = (result: PlaybackEvent['result'], kind: PlaybackEvent['kind'], bytes: number) =>
    metrics.onPlaybackEvent({ result, kind, bytes });

  /** The stored object of `path` in the item, fenced to the item's folder (no link leads into another item). */
  const locate = (mediaId: string, path: string) => {
    let prefix: string;
    try {
      prefix = layout.prefixFor(mediaId);
    } catch {
      throw new HttpError('not_found', 'no such media');
    }
    const key = `${prefix}${path}`;
    if (path === '' || keyProblem(key) || !kindOf(path)) throw new HttpError('not_found', 'no such file');
    return { bucket: layout.bucket, key, within: prefix };
  };
  const notFound = (error: unknown) => {
    if (error instanceof StorageError) return new HttpError('not_found', 'no such file');
    return error;
  };

  /**
   * Sends one file of a media item: a playlist rewritten as it streams (`base` leads from the
   * folder the client asked in to the item's freshly signed root), anything else with ranges and validators.
   */
  const send = async (
    request: FastifyRequest,
    reply: FastifyReply,
    grant: PlaybackGrant,
    path: string,
    base: (signature: string) => string,
    keep?: string,
  ): Promise<FastifyReply> => {
    const location = locate(grant.mediaId, path);
    const { type, kind } = kindOf(path) as { type: string; kind: PlaybackEvent['kind'] };
    const head = request.method === 'HEAD';
    let stat: Awaited<ReturnType<MediaStorage['stat']>>;
    try {
      stat = await storage.stat(location);
    } catch (error) {
      throw notFound(error);
    }
    if (!stat) throw new HttpError('not_found', 'no such file');
    if (kind === 'playlist') {
      if (stat.bytes > MAX_PLAYLIST_BYTES) {
        throw new HttpError('internal_error', 'this playlist is larger than the gateway serves');
      }
      reply.header('content-type', type).header('cache-control', PLAYLIST_CACHE);
      if (head) {
        record('ok', kind, 0);
        return reply.send('');
      }
      // The master signs its media playlists afresh. A media playlist keeps the signature it was
      // fetched with: a growing (EVENT) playlist is fetched again and again, and a player checks
      // that the segments it already has keep their URIs (hls.js fails a reload that renames them).
      const signature =
        keep !== undefined && path !== ITEM_LAYOUT.master.path
          ? keep
          : grants.sign(grant.sessionId, grant.mediaId, grants.childTtlSeconds);
      const target = { playlistPath: path, base: base(signature) };
      const lines = rewritePlaylist(storage.createReadStream(location), target);
      // Counted as sent: the rewritten bytes, once the last line is out.
      const counted = async function* () {
        let bytes = 0;
        for await (const part of lines) {
          bytes += Buffer.byteLength(part);
          yield part;
        }
        record('ok', kind, bytes);
      };
      return reply.send(Readable.from(counted()));
    }
    const etag = `"${createHash('sha1')
      .update(`${location.key}:${stat.bytes}:${stat.modifiedMs ?? 0}`)
      .digest('base64url')
      .slice(0, 16)}"`;
    reply
      .header('content-type', type)
      .header('cache-control', SEGMENT_CACHE)
      .header('etag', etag)
      .header('accept-ranges', 'bytes');
    if (request.headers['if-none-match'] === etag) {
      record('ok', kind, 0);
      return reply.code(304).send();
    }
    let range: { start: number; end: number } | undefined;
    const asked = request.headers.range;
    if (asked) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(asked.trim());
      const size = stat.bytes;
      let start = m?.[1] ? Number(m[1]) : undefined;
      let end = m?.[2] ? Number(m[2]) : undefined;
      if (start === undefined && end !== undefined) {
        start = Math.max(0, size - end);
        end = size - 1;
      }
      if (!m || start === undefined || start >= size || (end !== undefined && end < start)) {
        record('ok', kind, 0);
        return reply.code(416).header('content-range', `bytes */${size}`).send();
      }
      range = { start, end: Math.min(end ?? size - 1, size - 1) };
      reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
    }
    const length = range ? range.end - range.start + 1 : stat.bytes;
    reply.header('content-length', String(length));
    record('ok', kind, head ? 0 : length);
    // A stream keeps the Content-Length set above (an empty send would reset it to 0); HEAD reads no bytes.
    return reply.send(head ? Readable.from([]) : storage.createReadStream(location, range));
  };

  /** Turns refusals into metrics, then lets the app's error handler answer. */
  const counted = async (path: string, work: () => Promise<FastifyReply>) => {
    try {
      return await work();
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const result =
        status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not_found' : 'error';
      record(result, kindOf(path)?.kind ?? 'other', 0);
      throw error;
    }
  };

  const mediaIdOf = (value: string | undefined) => {
    if (!isSafeId(value)) throw new HttpError('not_found', 'no such media');
    return value;
  };

  const play = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = request.params as { mediaId: string; sig: string; '*': string };
    return counted(params['*'], async () => {
      const mediaId = mediaIdOf(params.mediaId);
      const grant = await authorize(mediaId, params.sig);
      // From `/play/<id>/<sig>/<dir…>/` up to `/play/<id>/`: one `../` per folder, one for the signature.
      const up = '../'.repeat(params['*'].split('/').length);
      return send(request, reply, grant, params['*'], (signature) => `${up}${signature}/`, params.sig);
    });
  };
  // Fastify answers HEAD with this route too; `send` then reads no bytes.
  app.get('/play/:mediaId/:sig/*', play);

  app.get('/api/stream/:mediaId/manifest.m3u8', async (request, reply) =>
    counted(ITEM_LAYOUT.master.path, async () => {
      const mediaId = mediaIdOf((request.params as { mediaId: string }).mediaId);
      const token = (request.query as { token?: unknown }).token;
      const granted = typeof token === 'string' ? await grants.verifyToken(token) : undefined;
      if (!granted) throw new HttpError('unauthorized', 'a valid playback token is required (?token=)');
      if (granted.mediaId !== mediaId) throw new HttpError('policy_denied', 'this token is for another media item');
      if ((await liveMedia(granted.sessionId)) !== mediaId) {
        throw new HttpError('policy_denied', 'the playback session has ended; admit again');
      }
      const grant = {
        sessionId: granted.sessionId,
        mediaId,
        exp: Math.floor(Date.now() / 1000) + grants.childTtlSeconds,
      };
      // From `/api/stream/<id>/` to `/play/<id>/<sig>/`.
      return send(
        request,
        reply,
        grant,
        ITEM_LAYOUT.master.path,
        (signature) => `../../../play/${encodeURIComponent(mediaId)}/${signature}/`,
      );
    }),
  );

  // For nginx `auth_request` (or a CDN's token check): the same rules, no bytes. nginx turns any
  // answer other than 2xx, 401 and 403 into a 500 for the viewer, so every refusal is one of those.
  app.get('/api/v1/playback/authorize', async (request, reply) => {
    const original = request.headers['x-original-uri'];
    const uri = typeof original === 'string' ? (original.split('?')[0] ?? '') : '';
    const m = /^\/play\/([^/]+)\/([^/]+)\/(.+)$/.exec(uri);
    if (!m) throw new HttpError('unauthorized', 'X-Original-URI must be a /play/<mediaId>/<signature>/<path> URI');
    const [, rawMedia, sig, rawPath] = m as unknown as [string, string, string, string];
    const decode = (text: string) => {
      try {
        return decodeURIComponent(text);
      } catch {
        throw new HttpError('policy_denied', 'X-Original-URI has a malformed escape');
      }
    };
    const mediaId = decode(rawMedia);
    if (!isSafeId(mediaId)) throw new HttpError('policy_denied', 'no such media');
    await authorize(mediaId, sig);
    // The file itself, by real path: nginx follows links, so one planted under this item that
    // leads into another is refused here before nginx serves its bytes.
    const exists = await Promise.resolve()
      .then(() => storage.stat(locate(mediaId, decode(rawPath))))
      .catch(() => undefined);
    if (!exists) throw new HttpError('policy_denied', 'no such file');
    return reply.code(204).send();
  });
};
