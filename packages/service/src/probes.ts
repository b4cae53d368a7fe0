import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/** The Redis client `/ready` pings, as ioredis's `Redis` and `Cluster` have it. */
export interface PingableConnection {
  ping(): Promise<unknown>;
  on(event: 'error', listener: (error: Error & { lastNodeError?: Error }) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  off(event: 'error', listener: (error: Error & { lastNodeError?: Error }) => void): unknown;
}

/** What `/metrics` serves, as a prom-client registry (or `TvMetrics`) has it. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** What every app answers besides its own routes. */
export interface ProbeOptions {
  /** Pinged by `/ready`. */
  connection: PingableConnection;
  metrics: MetricsSource;
  /** Extra fields of `/health`, best effort: liveness never depends on Redis. */
  health?: () => Promise<Record<string, unknown>>;
}

/** Longest `/ready` waits for Redis's PONG. */
const READY_TIMEOUT_MS = 2000;

/** `GET /health` (liveness), `GET /ready` (Redis answers, else 503) and `GET /metrics` (Prometheus). */
export function registerProbes(app: FastifyInstance, options: ProbeOptions): void {
  const { connection, metrics, health } = options;
  // Why Redis does not answer, for the operator reading /ready: the client's last connection error
  // (hosts and ports, never a password: ioredis does not put them in its messages).
  let lastError: string | undefined;
  const onError = (error: Error & { lastNodeError?: Error }) => {
    lastError = (error.lastNodeError ? `${error.message}: ${error.lastNodeError.message}` : error.message).slice(
      0,
      300,
    );
  };
  connection.on('error', onError);
  connection.on('ready', () => {
    lastError = undefined;
  });
  app.addHook('onClose', async () => {
    connection.off('error', onError);
  });
  app.get('/health', async () => ({ status: 'ok', ...(health ? await health().catch(() => ({})) : {}) }));
  app.get('/ready', async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      // Bounded whatever the client does: a probe that hangs is worse than one that says no.
      await Promise.race([
        connection.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
        }),
      ]);
      return { status: 'ready' };
    } catch (error) {
      const reason = lastError ?? (error as Error).message;
      const problem = new HttpError('service_unavailable', `Redis does not answer (${reason})`);
      return reply.code(problem.status).send(problem.body());
    } finally {
      clearTimeout(timer);
    }
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
}
