import type { TvMetrics } from '@nself-tv/metrics';
import type { RedisClient } from '@nself-tv/redis-keys';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

/**
 * The shell every app shares: settings from the environment, the probes, and
 * the one function that owns the process (signals and exit codes). Libraries
 * never exit or install signal handlers; an app's entry point calls
 * {@link runService} and nothing else does.
 */

/** A setting the service cannot start with. The message names the variable. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** `PORT`, `HOST` and `LOG_LEVEL`, as every app reads them. */
export const serviceEnvFields = (defaultPort: number) => ({
  PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * Parses the environment with `schema`; an empty variable counts as unset.
 * @throws ConfigError `NAME: what is wrong` for the first bad variable.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Runs `read` and turns what it throws into a {@link ConfigError} (for settings parsed elsewhere). */
export function configFrom<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof ConfigError ? error : new ConfigError((error as Error).message, { cause: error });
  }
}

/** What every app answers besides its own routes. */
export interface ProbeOptions {
  /** Pinged by `/ready`. */
  connection: RedisClient;
  metrics: TvMetrics;
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
      return reply.code(503).send({ error: 'service_unavailable', message: `Redis does not answer (${reason})` });
    } finally {
      clearTimeout(timer);
    }
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
}

/**
 * JSON Schema of every app's error body, `{ error, message, field? }`, for
 * its OpenAPI document: `codes` are the `error` values it answers, `extra`
 * any fields of its own.
 */
export function errorBodySchema(codes: readonly string[], extra: Record<string, unknown> = {}) {
  return {
    type: 'object',
    required: ['error', 'message'],
    properties: {
      error: { type: 'string', enum: [...codes] },
      message: { type: 'string' },
      field: { type: 'string', description: 'The request field at fault (400 only).' },
      ...extra,
    },
  };
}

/** A started service. */
export interface RunningService {
  address: string;
  /** Stops gracefully; resolves `false` when it had to give up (for example Redis did not answer). */
  stop(signal: string): Promise<boolean>;
  /** Writes out buffered log lines before the process exits. */
  flush?(): void;
}

/**
 * The entry point of an app, and the only code that touches the process:
 * starts the service, refuses to start on a {@link ConfigError} (the message
 * on stderr, exit 1), and on SIGTERM, SIGINT or SIGHUP (a closed terminal
 * hands work back like Ctrl-C) stops it and exits 0, or 1 when the stop did
 * not finish.
 */
export async function runService(name: string, start: () => Promise<RunningService>): Promise<void> {
  let service: RunningService | undefined;
  let requested: string | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    // A signal during start-up is served once the service is up, so nothing it started is left behind.
    if (!service) {
      requested ??= signal;
      return;
    }
    if (stopping) return;
    stopping = true;
    const clean = await service.stop(signal).catch(() => false);
    service.flush?.();
    process.exit(clean ? 0 : 1);
  };
  // Installed before start-up, so no signal finds the process without them.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
  try {
    service = await start();
  } catch (error) {
    const detail =
      error instanceof ConfigError ? `refusing to start: ${error.message}` : ((error as Error).stack ?? String(error));
    process.stderr.write(`${name}: ${detail}\n`);
    process.exit(1);
  }
  if (requested) await stop(requested);
}
