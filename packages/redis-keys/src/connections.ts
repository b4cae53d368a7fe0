import { lookup } from 'node:dns';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig, ReplicaWait } from './config.js';
import { NotReplicatedError } from './errors.js';

/**
 * A connection to one Redis (directly or through Sentinel) or to a Redis Cluster, as the
 * factories below return it: both run every command this project sends.
 */
export type RedisClient = Redis | Cluster;

/** Whether `client` talks to a Redis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/** The options every node connection of `client` has (a cluster's `redisOptions`). */
export function nodeOptions(client: RedisClient): RedisOptions {
  return isCluster(client) ? (client.options.redisOptions ?? {}) : client.options;
}

/**
 * A new connection to the same Redis or cluster as `client`, with `overrides` applied to
 * each node connection (and the offline queue, for a cluster, to the whole). For subscribers
 * and other connections that need settings of their own.
 */
export function duplicateConnection(client: RedisClient, overrides: RedisOptions): RedisClient {
  if (!isCluster(client)) return client.duplicate(overrides);
  const { enableOfflineQueue, ...node } = overrides;
  return client.duplicate(undefined, {
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    redisOptions: { ...client.options.redisOptions, ...node },
  });
}

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

/**
 * Opens the connection `config` describes with `options`: one server, the master a set of
 * sentinels names (followed across failovers), or a cluster (options apply to every node; the
 * offline queue, ready check and reconnects to the cluster as a whole).
 */
function connect(config: RedisConfig, options: RedisOptions): RedisClient {
  if (config.cluster) {
    const { host: _h, port: _p, db: _d, retryStrategy: _r, enableOfflineQueue, enableReadyCheck, ...node } = options;
    const clusterOptions: ClusterOptions = {
      redisOptions: { ...node, ...(config.tls ? { tls: {} } : {}) },
      clusterRetryStrategy: reconnectDelay,
      enableOfflineQueue: enableOfflineQueue ?? true,
      enableReadyCheck: enableReadyCheck ?? true,
      // A failover moves slots: commands in flight follow MOVED/ASK redirections a few times.
      maxRedirections: 16,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
    };
    // ioredis reconnects quietly when a seed's name does not resolve: the client says why on its
    // 'error' event, as it does for every other topology fault (only when someone listens).
    const cluster: Cluster = new Cluster(
      config.cluster.nodes.map((n) => ({ host: n.host, port: n.port })),
      {
        ...clusterOptions,
        dnsLookup: (hostname, callback) =>
          lookup(hostname, (error, address, family) => {
            if (error && cluster.listenerCount('error') > 0) {
              cluster.emit(
                'error',
                new Error(`Redis Cluster seed ${hostname} does not resolve (${error.code ?? error.message})`, {
                  cause: error,
                }),
              );
            }
            callback(error, address, family);
          }),
      },
    );
    return cluster;
  }
  if (config.sentinel) {
    const { host: _h, port: _p, ...rest } = options;
    return new Redis({
      ...rest,
      sentinels: config.sentinel.nodes.map((n) => ({ host: n.host, port: n.port })),
      name: config.sentinel.name,
      sentinelUsername: config.sentinel.username,
      sentinelPassword: config.sentinel.password,
      sentinelRetryStrategy: reconnectDelay,
      // After a failover the old master may come back as a replica: reconnect to the new one.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    });
  }
  return new Redis(options);
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
export function createWorkerConnection(config: RedisConfig, options: WorkerConnectionOptions = {}): RedisClient {
  return connect(config, {
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
export function createRequestConnection(config: RedisConfig, options: RequestConnectionOptions = {}): RedisClient {
  const client = connect(config, {
    ...baseOptions(config, options.connectionName),
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    ...options.overrides,
  });
  if (isCluster(client)) {
    // A cluster client keeps queued commands for as long as no node answers (a node's command
    // timeout only starts once it has the command, and the cluster flushes its queue only when it
    // stops retrying): with wrong REDIS_CLUSTER_NODES every request would hang. Once the first
    // attempt has failed, or the connect timeout has passed, it queues nothing more and fails what
    // waits, as one server's request connection does after its first failed attempt.
    const giveUp = () => {
      clearTimeout(timer);
      if (client.status === 'ready' || client.options.enableOfflineQueue === false) return;
      client.options.enableOfflineQueue = false;
      // ioredis's own flush (not typed as public): it rejects every queued command with this error.
      (client as unknown as { flushQueue?: (error: Error) => void }).flushQueue?.(
        new Error("Cluster isn't ready: no node of the cluster answers"),
      );
    };
    const timer = setTimeout(giveUp, options.connectTimeoutMs ?? 2000);
    timer.unref();
    client.once('reconnecting', giveUp);
    client.once('error', giveUp);
    client.once('ready', () => clearTimeout(timer));
  }
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
export function waitForReady(client: RedisClient, timeoutMs = 5000): Promise<void> {
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

/**
 * The connections that hold keys: `client` itself, or every master of a cluster (once the
 * cluster client has read its slot table). For commands that must reach each server: SCAN, INFO.
 */
export async function masterNodes(client: RedisClient): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  await waitForReady(client, 10_000);
  return client.nodes('master');
}

/**
 * Waits until `wait.replicas` replicas have every write `client` sent so far (`WAIT`); does
 * nothing without `wait`. Call it after a write that is about to be acknowledged.
 * @throws NotReplicatedError (`NOT_REPLICATED`) when fewer acknowledged within `wait.timeoutMs`.
 */
export async function awaitReplicas(client: RedisClient, wait: ReplicaWait | undefined): Promise<void> {
  if (!wait) return;
  const acknowledged = Number(await client.call('WAIT', String(wait.replicas), String(wait.timeoutMs)));
  if (acknowledged < wait.replicas) throw new NotReplicatedError(wait.replicas, acknowledged, wait.timeoutMs);
}
