import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from './config.js';

/** Reconnect delay after `attempt` failed attempts: `min(attempt * 200, 5000)` ms. */
export function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 200, 5000);
}

function baseOptions(config: RedisConfig, connectionName: string | undefined): RedisOptions {
  return {
    host: config.host,
    port: config.port,
    username: config.username,
    password: config.password,
    db: config.db,
    ...(config.tls ? { tls: { servername: config.host } } : {}),
    ...(connectionName ? { connectionName } : {}),
    retryStrategy: reconnectDelay,
  };
}

/** Options of {@link createWorkerConnection}. */
export interface WorkerConnectionOptions {
  /** Shown by `CLIENT LIST`, useful for operators. @default undefined */
  connectionName?: string;
  /** Extra ioredis options, applied last. @default {} */
  overrides?: RedisOptions;
}

/**
 * A connection for BullMQ workers and other long-running consumers: commands
 * wait through outages (`maxRetriesPerRequest: null`, offline queue on) and the
 * client reconnects forever with {@link reconnectDelay}.
 */
export function createWorkerConnection(config: RedisConfig, options: WorkerConnectionOptions = {}): Redis {
  return new Redis({
    ...baseOptions(config, options.connectionName),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    enableOfflineQueue: true,
    ...options.overrides,
  });
}

/** Options of {@link createRequestConnection}. */
export interface RequestConnectionOptions {
  /** Longest a command may take before it rejects. @default 500 */
  commandTimeoutMs?: number;
  /** Longest a connection attempt may take. @default 2000 */
  connectTimeoutMs?: number;
  /** Shown by `CLIENT LIST`. @default undefined */
  connectionName?: string;
  /** Extra ioredis options, applied last. @default {} */
  overrides?: RedisOptions;
}

/** Default command timeout of the request-path connection, in ms. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 500;

/**
 * A connection for HTTP handlers, caches and producers that must never hang.
 * Commands issued before the first connection wait for it (bounded by
 * `commandTimeoutMs`); from then on nothing is queued: while Redis is
 * unreachable commands reject at once, and a command to a slow server rejects
 * after `commandTimeoutMs`. It keeps reconnecting in the background with
 * {@link reconnectDelay}.
 */
export function createRequestConnection(config: RedisConfig, options: RequestConnectionOptions = {}): Redis {
  const client = new Redis({
    ...baseOptions(config, options.connectionName),
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    ...options.overrides,
  });
  // The offline queue only bridges start-up; a failed first attempt flushes it (maxRetriesPerRequest 0).
  client.once('ready', () => {
    client.options.enableOfflineQueue = options.overrides?.enableOfflineQueue ?? false;
  });
  return client;
}

/**
 * Resolves once `client` is ready, or rejects after `timeoutMs`. Useful in
 * readiness checks and at start-up.
 */
export function waitForReady(client: Redis, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}
