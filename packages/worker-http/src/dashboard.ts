import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { QUEUE_CATALOG } from '@nself-tv/queues';
import { type Keyspace, keyspaceFor, QUEUE_NAMES, type RedisClient, splitQueueName } from '@nself-tv/redis-keys';
import { Queue } from 'bullmq';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isAcceptedToken } from './tokens.js';

/** What the dashboard lets an operator do. */
export type DashboardMode = 'read-only' | 'read-write';

/** Options of {@link queueDashboard}. */
export interface DashboardOptions {
  /** Connection the dashboard's BullMQ queues share (a request connection is right). */
  connection: RedisClient;
  /** @default keyspaceFor(connection) */
  keyspace?: Keyspace;
  /** Where it is served, for example `/admin/queues`. */
  path: string;
  /** `read-only` shows everything and changes nothing; `read-write` adds retry, remove, promote, clean, pause. */
  mode: DashboardMode;
  /** Tokens that open it, as `Authorization: Bearer <token>` or as the password of HTTP Basic auth. */
  tokens: string[];
  /** Shown at the top of the page. */
  title: string;
}

/** A path the dashboard may be mounted at: lowercase segments, not the app's own routes. */
export const DASHBOARD_PATH_PATTERN = /^(\/[a-z0-9][a-z0-9._-]*)+$/;
const RESERVED = ['/api', '/health', '/ready', '/metrics', '/openapi.json'];

/** Why `path` cannot hold the dashboard, or undefined when it can. */
export function dashboardPathProblem(path: string): string | undefined {
  if (!DASHBOARD_PATH_PATTERN.test(path)) return 'must look like /admin/queues (lowercase segments, no trailing slash)';
  const clash = RESERVED.find((r) => path === r || path.startsWith(`${r}/`));
  return clash ? `must not be under ${clash}, which the app serves itself` : undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);
const REALM = 'Basic realm="nself-tv queues", charset="UTF-8"';

/** The token a request presents: `Bearer <token>`, or Basic with the token as password (any user name). */
function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic ([A-Za-z0-9+/=]{1,8192})$/.exec(header);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/** A change asked for by another site (a form or a script on a page the operator has open): refused. */
function crossSite(request: FastifyRequest): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

function refuse(reply: FastifyReply, status: number, error: string, message: string) {
  if (status === 401) reply.header('www-authenticate', REALM);
  return reply.code(status).send({ error, message });
}

/**
 * A plugin mounting a bull-board dashboard of all six spec queues (`video:transcode` …, under this
 * keyspace's prefixes) at `options.path`. Every request needs one of `options.tokens` (401
 * otherwise, with a Basic challenge so a browser asks for it). In `read-only` mode the board
 * hides its actions and any request other than GET/HEAD is refused with 403; in `read-write`
 * mode changes are allowed but not from another site (403). Its queue handles close with the app
 * (the connection stays open). A bad path or no token fails its registration.
 */
export const queueDashboard: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  const problem = dashboardPathProblem(options.path);
  if (problem) throw new Error(`dashboard path ${options.path}: ${problem}`);
  const tokens = options.tokens.filter((t) => t.length > 0);
  if (tokens.length === 0) throw new Error('the queue dashboard needs a token; it is never open to everyone');
  const keyspace = options.keyspace ?? keyspaceFor(options.connection);
  const readOnlyMode = options.mode === 'read-only';

  const queues = QUEUE_NAMES.map((name) => {
    const location = keyspace.queue(name);
    const queue = new Queue(location.name, { connection: options.connection, prefix: location.prefix });
    const adapter = new BullMQAdapter(queue, {
      readOnlyMode,
      // Shown as `video:transcode`; the display prefix also keeps same-named queues of different groups apart.
      prefix: `${splitQueueName(name).group}:`,
      delimiter: ':',
      description: `${QUEUE_CATALOG[name].consumer}, concurrency ${QUEUE_CATALOG[name].concurrency}`,
    });
    return { queue, adapter };
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(options.path);
  createBullBoard({
    queues: queues.map((q) => q.adapter),
    serverAdapter,
    options: { uiConfig: { boardTitle: options.title } },
  });

  await app.register(
    async (scope) => {
      scope.addHook('onRequest', (request, reply, done) => {
        const token = presentedToken(request.headers.authorization);
        if (token === undefined || !isAcceptedToken(token, tokens)) {
          refuse(reply, 401, 'unauthorized', 'the queue dashboard needs its token (HTTP Basic password or Bearer)');
          return;
        }
        if (!SAFE_METHODS.has(request.method)) {
          if (readOnlyMode) {
            refuse(reply, 403, 'policy_denied', 'the queue dashboard is read-only (DASHBOARD=read-only)');
            return;
          }
          if (crossSite(request)) {
            refuse(reply, 403, 'policy_denied', 'changes must come from the dashboard itself');
            return;
          }
        }
        done();
      });
      // Operators' browsers must not keep queue contents.
      scope.addHook('onSend', (_request, reply, payload, done) => {
        reply.header('cache-control', 'no-store');
        reply.header('x-frame-options', 'DENY');
        done(null, payload);
      });
      // Unknown paths under the dashboard answer only to its token too.
      scope.setNotFoundHandler((_request, reply) => refuse(reply, 404, 'not_found', 'no such dashboard page'));
      await scope.register(serverAdapter.registerPlugin());
    },
    { prefix: options.path },
  );

  // Its queue handles go with the app.
  app.addHook('onClose', async () => {
    await Promise.all(queues.map((q) => q.queue.close().catch(() => undefined)));
  });
};
