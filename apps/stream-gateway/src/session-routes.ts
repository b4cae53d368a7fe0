import { isSafeId } from '@nself-tv/redis-keys';
import { HttpError } from '@nself-tv/service';
import type { Session, SessionStore } from '@nself-tv/sessions';
import { SessionError } from '@nself-tv/sessions';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AccessPolicy } from './access-policy.js';
import { admitBody, heartbeatBody } from './api-schemas.js';
import type { Caller } from './auth.js';
import { isoTime as iso } from './iso-time.js';
import type { PlaybackGrants } from './playback-grant.js';
import { RateLimiter } from './rate-limit.js';

/** Options of {@link sessionRoutes}. */
export interface SessionRoutesOptions {
  sessions: SessionStore;
  /** The caller of a request, from its `Authorization` header (401 when there is none or it is forged). */
  authenticate(header: string | undefined): Promise<Caller>;
  /** Who may play what, asked at admit. */
  mayPlay: AccessPolicy;
  grants: PlaybackGrants;
  admitRateLimitPerMinute: number;
  /** What admit tells clients (`HEARTBEAT_INTERVAL_SECONDS`). */
  heartbeatIntervalSeconds: number;
}

/** The heartbeat's route: the hottest one, whose successes are logged at debug. */
export const HEARTBEAT_ROUTE = '/api/v1/heartbeat/:sessionId';

/** The request's device id, from the body or `X-Device-Id`; `undefined` when the client sends none. */
function deviceIdOf(request: FastifyRequest, body: { deviceId?: string | undefined } | null | undefined) {
  const header = request.headers['x-device-id'];
  const deviceId = body?.deviceId ?? (typeof header === 'string' && header !== '' ? header : undefined);
  if (deviceId !== undefined && !isSafeId(deviceId)) {
    throw new HttpError('bad_request', 'deviceId: invalid', { field: 'deviceId' });
  }
  return deviceId;
}

/** The session store's coded errors, in the registry's codes: a bad id is 400 (an outage is the service's 503). */
export function fromSessions(error: Error): HttpError | undefined {
  if (!(error instanceof SessionError)) return undefined;
  switch (error.code) {
    case 'INVALID_SESSION_INPUT':
      return new HttpError('bad_request', error.message, error.field ? { field: error.field } : {});
    default:
      return undefined;
  }
}

function badRequest(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  const field = issue?.path.join('.') ?? '';
  const message =
    issue?.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
  return new HttpError('bad_request', field ? `${field}: ${message}` : message, {
    field: field || (issue?.code === 'unrecognized_keys' ? issue.keys[0] : ''),
  });
}

const view = (s: Session) => ({
  sessionId: s.sessionId,
  userId: s.userId,
  mediaId: s.mediaId,
  deviceId: s.deviceId,
  familyId: s.familyId,
  startedAt: iso(s.startedAt),
  lastHeartbeat: iso(s.lastHeartbeat),
});

function pathId(request: FastifyRequest, name: string): string {
  const value = (request.params as Record<string, string>)[name];
  if (!isSafeId(value)) {
    throw new HttpError('bad_request', `${name}: must be 1-128 of letters, digits, '-', '_' and '.'`, {
      field: name,
    });
  }
  return value;
}

/**
 * The playback-session API the nself-tv web client calls: `POST /api/v1/admit`,
 * `POST /api/v1/heartbeat/:sessionId`, `DELETE /api/v1/session/:sessionId` and
 * `GET /api/v1/sessions/:familyId`, every one for the caller its JWT names.
 */
export const sessionRoutes: FastifyPluginAsync<SessionRoutesOptions> = async (app, options) => {
  const { sessions, authenticate, mayPlay, grants } = options;
  const limiter = new RateLimiter(options.admitRateLimitPerMinute);
  const callerOf = async (request: FastifyRequest): Promise<Caller> => {
    const caller = await authenticate(request.headers.authorization);
    if (caller.role === 'restricted')
      throw new HttpError('policy_denied', 'this account may not start or manage streams');
    return caller;
  };

  app.post('/api/v1/admit', async (request, reply) => {
    const caller = await callerOf(request);
    const parsed = admitBody.safeParse(request.body);
    if (!parsed.success) throw badRequest(parsed.error);
    const body = parsed.data;
    // The client's own statements about role and ratings: recorded, never trusted.
    request.log.info(
      {
        clientStatements: {
          userRole: body.userRole,
          contentRating: body.contentRating,
          profileContentRatingLimit: body.profileContentRatingLimit,
        },
        tokenRole: caller.role,
      },
      'admit requested',
    );
    if (body.userId !== undefined && body.userId !== caller.userId) {
      throw new HttpError('policy_denied', 'userId does not match the token');
    }
    if (body.familyId !== undefined && body.familyId !== caller.familyId) {
      throw new HttpError('policy_denied', 'familyId does not match the token');
    }
    const wait = limiter.take(caller.userId);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new HttpError('rate_limited', `too many admissions; retry in ${wait} s`);
    }
    let decision: Awaited<ReturnType<AccessPolicy>>;
    try {
      decision = await mayPlay(caller, body.mediaId);
    } catch (error) {
      request.log.warn({ err: error }, 'the access policy could not decide');
      throw new HttpError('service_unavailable', 'who may play this cannot be checked right now; retry shortly');
    }
    if (!decision.allow) throw new HttpError('policy_denied', decision.message);
    const result = await sessions.admit({
      userId: caller.userId,
      familyId: caller.familyId,
      deviceId: body.deviceId,
      mediaId: body.mediaId,
      clientRequestId: body.clientRequestId,
    });
    if (!result.ok) {
      const family = result.reason === 'family_limit';
      throw new HttpError(
        family ? 'concurrency_limit' : 'device_limit',
        family
          ? `your family already watches ${sessions.maxFamilyStreams} streams; stop one to start another`
          : `this device already plays ${sessions.maxDeviceStreams} streams; stop one to start another`,
        { activeSessions: result.active.map(view) },
      );
    }
    const { session } = result;
    const tokenExpiresAt = Date.now() + grants.childTtlSeconds * 1000;
    return {
      data: {
        sessionId: session.sessionId,
        mediaUrl: grants.mediaUrl(request, session),
        trickplayUrl: grants.trickplayUrl(request, session),
        token: await grants.token(session),
        expiresAt: iso(session.lastHeartbeat + sessions.ttlSeconds * 1000),
        tokenExpiresAt: iso(tokenExpiresAt),
        heartbeatIntervalSeconds: options.heartbeatIntervalSeconds,
      },
    };
  });

  app.post(HEARTBEAT_ROUTE, async (request) => {
    const caller = await callerOf(request);
    const sessionId = pathId(request, 'sessionId');
    // The web client sends no body: nothing to check.
    let body: z.infer<typeof heartbeatBody>;
    if (request.body !== undefined) {
      const parsed = heartbeatBody.safeParse(request.body);
      if (!parsed.success) throw badRequest(parsed.error);
      body = parsed.data;
    }
    // The token's user must own the session; a device id, when the client sends one, must match too.
    const result = await sessions.heartbeat(sessionId, {
      userId: caller.userId,
      deviceId: deviceIdOf(request, body),
    });
    // Someone else's session looks exactly like a missing one.
    if (!result.ok) throw new HttpError('session_not_found', 'no such session; admit again');
    return { status: 'ok', sessionId, expiresAt: iso(result.expiresAt) };
  });

  app.delete('/api/v1/session/:sessionId', async (request) => {
    const caller = await callerOf(request);
    const sessionId = pathId(request, 'sessionId');
    // Idempotent, and silent about sessions of others: the caller has no session with this id afterwards either way.
    await sessions.end(sessionId, { userId: caller.userId });
    return { status: 'ended', sessionId };
  });

  app.get('/api/v1/sessions/:familyId', async (request) => {
    const caller = await callerOf(request);
    const familyId = pathId(request, 'familyId');
    if (familyId !== caller.familyId)
      throw new HttpError('policy_denied', 'you can only list your own family’s sessions');
    const list = await sessions.listFamily(familyId);
    return { data: list.map(view), count: list.length, familyId };
  });
};
