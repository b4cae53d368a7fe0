import { randomUUID } from 'node:crypto';
import { createTvMetrics } from '@nself-tv/metrics';
import { isSafeId, type Keyspace, keyspaceFor, type RedisClient } from '@nself-tv/redis-keys';
import { HttpError, httpErrors, jsonBodies, registerProbes } from '@nself-tv/service';
import { createSessionStore, type Session, SessionError } from '@nself-tv/sessions';
import type { MediaStorage } from '@nself-tv/storage';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import { pino } from 'pino';
import type { z } from 'zod';
import { type AccessPolicy, anyFamilyPolicy, ownerPolicy, remotePolicy } from './access-policy.js';
import { admitBody, heartbeatBody } from './api-schemas.js';
import { type Caller, createAuthenticator, hmacKey } from './auth.js';
import type { GatewayConfig } from './config.js';
import { registerCors } from './cors.js';
import { registerDevPlayer } from './dev-player.js';
import { isoTime as iso } from './iso-time.js';
import { openApiDocument } from './openapi.js';
import { registerPlayback } from './playback.js';
import { PlaybackSigner } from './playback-url.js';
import { RateLimiter } from './rate-limit.js';
import { RequestLogger } from './request-logger.js';

/** What {@link buildGateway} needs besides the configuration. */
export interface GatewayDeps {
  /** A request-path connection for sessions. Closed by the app on shutdown. */
  connection: RedisClient;
  /** @default keyspaceFor(connection): the spec's keys, or the cluster layout on a cluster */
  keyspace?: Keyspace;
  /** pino destination for tests. @default stdout */
  logStream?: NodeJS.WritableStream;
  /** The media store playback reads. @default the one `STORAGE` names (the filesystem store at `MEDIA_ROOT`) */
  storage?: MediaStorage;
  /** Who may play what, asked at admit. @default the one `PLAYBACK_ACCESS` names (the ingest's record) */
  accessPolicy?: AccessPolicy;
}

/** A request's path for the log: no query (tokens), no playback signature. */
function loggedPath(url: string): string {
  return (url.split('?')[0] ?? '').replace(/^\/play\/([^/]*)\/[^/]*/, '/play/$1/<signature>');
}

/** The request's device id, from the body or `X-Device-Id`; `undefined` when the client sends none. */
function deviceIdOf(request: FastifyRequest, body: { deviceId?: string | undefined } | null | undefined) {
  const header = request.headers['x-device-id'];
  const deviceId = body?.deviceId ?? (typeof header === 'string' && header !== '' ? header : undefined);
  if (deviceId !== undefined && !isSafeId(deviceId)) {
    throw new HttpError('bad_request', 'deviceId: invalid', { field: 'deviceId' });
  }
  return deviceId;
}

/** The session store's coded errors, in the registry's codes: a bad id is 400, an outage 503. */
function fromSessions(error: Error): HttpError | undefined {
  if (!(error instanceof SessionError)) return undefined;
  switch (error.code) {
    case 'INVALID_SESSION_INPUT':
      return new HttpError('bad_request', error.message, error.field ? { field: error.field } : {});
    case 'REDIS_UNAVAILABLE':
      return new HttpError('service_unavailable', 'the session store is unavailable; retry shortly');
    case 'REDIS_FULL':
      return new HttpError('service_unavailable', 'the session store is full; retry later');
    case 'NOT_REPLICATED':
      return new HttpError('service_unavailable', 'the session store could not confirm the write; retry shortly');
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

const HEARTBEAT_ROUTE = '/api/v1/heartbeat/:sessionId';
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

/** Builds the gateway (not listening). */
export async function buildGateway(config: GatewayConfig, deps: GatewayDeps): Promise<FastifyInstance> {
  const { connection } = deps;
  const keyspace = deps.keyspace ?? keyspaceFor(connection);
  const metrics = createTvMetrics({ redis: connection, keyspace });
  const sessions = createSessionStore({
    connection,
    keyspace,
    ttlSeconds: config.sessions.ttlSeconds,
    maxFamilyStreams: config.sessions.maxFamilyStreams,
    maxDeviceStreams: config.sessions.maxDeviceStreams,
    waitForReplicas: config.redis.waitForReplicas,
    onEvent: metrics.onSessionEvent,
  });
  const authenticate = await createAuthenticator(config.auth);
  const playbackKey = await hmacKey(config.playback.secret, 'sign');
  const limiter = new RateLimiter(config.admitRateLimitPerMinute);
  const playbackVerifyKey = await hmacKey(config.playback.secret, 'verify');

  // Buffered, asynchronous log writes: a synchronous write per line to a pipe
  // costs more than the rest of a heartbeat. Flushed on close.
  const logDestination = deps.logStream ?? pino.destination({ dest: 1, sync: false });
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    loggerInstance: pino(
      {
        level: config.logLevel,
        // Tokens and secrets never reach the logs.
        redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.token'], censor: '[redacted]' },
      },
      logDestination,
    ) as FastifyBaseLogger,
    // One line per request, written when it completes (below), instead of two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    // Behind nginx or a load balancer: whose X-Forwarded-Proto/Host make admit's mediaUrl.
    trustProxy: config.trustProxy,
    // Playback signatures are a path parameter of about 150 characters.
    routerOptions: { maxParamLength: 512 },
    genReqId: () => randomUUID(),
    // A request's child logger is built when the request first writes a line: most heartbeats never do.
    childLoggerFactory: RequestLogger.factory,
    // Fastify's own error bodies are replaced by the one error policy (httpErrors).
    return503OnClosing: true,
  });

  await app.register(httpErrors, { fromDomain: fromSessions });
  await app.register(jsonBodies);

  // Callback hooks: an async hook costs a promise and a microtask on every request.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  // Heartbeats are the hottest route (every viewer, every minute) and are counted in /metrics,
  // so one that succeeds is logged at debug; a failed one is logged like any other request.
  app.addHook('onResponse', (request, reply, done) => {
    const level = reply.statusCode < 300 && request.routeOptions.url === HEARTBEAT_ROUTE ? 'debug' : 'info';
    // Quiet heartbeats build no log line at all: this runs for every viewer every minute.
    const log = request.log as FastifyBaseLogger & { isLevelEnabled(level: string): boolean };
    if (!log.isLevelEnabled(level)) return done();
    request.log[level](
      {
        method: request.method,
        url: request.routeOptions.url ?? loggedPath(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
    done();
  });

  const storage = deps.storage ?? config.playbackFiles.storage;
  const mayPlay: AccessPolicy =
    deps.accessPolicy ??
    (config.access.kind === 'owner'
      ? ownerPolicy(storage, config.playbackFiles.layout)
      : config.access.kind === 'any'
        ? anyFamilyPolicy
        : remotePolicy(config.access.url));
  if (config.corsOrigins.length) await registerCors(app, config.corsOrigins);

  const callerOf = async (request: FastifyRequest): Promise<Caller> => {
    const caller = await authenticate(request.headers.authorization);
    if (caller.role === 'restricted')
      throw new HttpError('policy_denied', 'this account may not start or manage streams');
    return caller;
  };

  const playbackToken = (session: Session) =>
    new SignJWT({
      mediaId: session.mediaId,
      deviceId: session.deviceId,
      sessionId: session.sessionId,
      familyId: session.familyId,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(session.userId)
      .setIssuer(config.playback.issuer)
      .setIssuedAt()
      .setExpirationTime(`${config.playback.ttlSeconds}s`)
      .sign(playbackKey);

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
    const tokenExpiresAt = Date.now() + config.playback.ttlSeconds * 1000;
    return {
      data: {
        sessionId: session.sessionId,
        mediaUrl: playback.mediaUrl(request, session),
        trickplayUrl: playback.trickplayUrl(request, session),
        token: await playbackToken(session),
        expiresAt: iso(session.lastHeartbeat + sessions.ttlSeconds * 1000),
        tokenExpiresAt: iso(tokenExpiresAt),
        heartbeatIntervalSeconds: config.sessions.heartbeatIntervalSeconds,
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

  const playback = registerPlayback(app, {
    storage,
    layout: config.playbackFiles.layout,
    signer: new PlaybackSigner(config.playback.secret),
    session: (sessionId) => sessions.get(sessionId),
    metrics,
    publicUrl: config.playbackFiles.publicUrl,
    urlTtlSeconds: config.playbackFiles.urlTtlSeconds,
    childTtlSeconds: config.playback.ttlSeconds,
    async verifyToken(token) {
      try {
        const { payload } = await jwtVerify(token, playbackVerifyKey, {
          algorithms: ['HS256'],
          issuer: config.playback.issuer,
          requiredClaims: ['exp'],
        });
        const { sessionId, mediaId } = payload as { sessionId?: unknown; mediaId?: unknown };
        return typeof sessionId === 'string' && typeof mediaId === 'string' ? { sessionId, mediaId } : undefined;
      } catch {
        return undefined;
      }
    },
  });

  if (config.devPlayer) await registerDevPlayer(app, config);

  registerProbes(app, { connection, metrics });
  app.get('/openapi.json', async () => openApiDocument);

  app.addHook('onClose', async () => {
    await connection.quit().catch(() => connection.disconnect());
    if ('flushSync' in logDestination && typeof logDestination.flushSync === 'function') logDestination.flushSync();
  });
  return app;
}
