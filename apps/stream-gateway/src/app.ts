import { randomUUID } from 'node:crypto';
import { createTvMetrics } from '@nself-tv/metrics';
import { type Keyspace, keyspaceFor, type RedisClient } from '@nself-tv/redis-keys';
import { frameworkErrors, httpErrors, jsonBodies, registerProbes } from '@nself-tv/service';
import { createSessionStore } from '@nself-tv/sessions';
import { type MediaStorage, openStorage } from '@nself-tv/storage';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { pino } from 'pino';
import { type AccessPolicy, anyFamilyPolicy, ownerPolicy, remotePolicy } from './access-policy.js';
import { createAuthenticator } from './auth.js';
import type { GatewayConfig } from './config.js';
import { registerCors } from './cors.js';
import { devPlayer } from './dev-player.js';
import { openApiDocument } from './openapi.js';
import { PLAYBACK_ROUTER_OPTIONS, playbackRoutes } from './playback.js';
import { createPlaybackGrants } from './playback-grant.js';
import { RequestLogger, registerRequestLog } from './request-logger.js';
import { fromSessions, HEARTBEAT_ROUTE, sessionRoutes } from './session-routes.js';

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

/**
 * Builds the gateway (not listening): the one error policy, JSON bodies and
 * the request log, then its plugins (CORS, the session API, playback, the dev
 * player when asked), the probes and `/openapi.json`.
 */
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
  const grants = await createPlaybackGrants(config);

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
    routerOptions: PLAYBACK_ROUTER_OPTIONS,
    // Errors Fastify answers before any route (a URL it cannot decode) get the one error body too.
    frameworkErrors,
    genReqId: () => randomUUID(),
    // A request's child logger is built when the request first writes a line: most heartbeats never do.
    childLoggerFactory: RequestLogger.factory,
    // While shutting down, a new request is answered 503 at once instead of waiting for the close.
    return503OnClosing: true,
  });

  await app.register(httpErrors, { fromDomain: fromSessions });
  await app.register(jsonBodies);

  registerRequestLog(app, HEARTBEAT_ROUTE);

  const storage = deps.storage ?? (await openStorage(config.playbackFiles.store));
  const mayPlay: AccessPolicy =
    deps.accessPolicy ??
    (config.access.kind === 'owner'
      ? ownerPolicy(storage, config.playbackFiles.layout)
      : config.access.kind === 'any'
        ? anyFamilyPolicy
        : remotePolicy(config.access.url));
  if (config.corsOrigins.length) await registerCors(app, config.corsOrigins);

  await app.register(sessionRoutes, {
    sessions,
    authenticate,
    mayPlay,
    grants,
    admitRateLimitPerMinute: config.admitRateLimitPerMinute,
    heartbeatIntervalSeconds: config.sessions.heartbeatIntervalSeconds,
  });
  await app.register(playbackRoutes, {
    storage,
    layout: config.playbackFiles.layout,
    grants,
    session: (sessionId) => sessions.get(sessionId),
    metrics,
  });
  if (config.devPlayer) await app.register(devPlayer, { auth: config.auth });

  registerProbes(app, { connection, metrics });
  app.get('/openapi.json', async () => openApiDocument);

  app.addHook('onClose', async () => {
    await connection.quit().catch(() => connection.disconnect());
    if ('flushSync' in logDestination && typeof logDestination.flushSync === 'function') logDestination.flushSync();
  });
  return app;
}
