export type { RedisConfig, RedisNode, RedisRole, ReplicaWait } from './config.js';
export {
  DEFAULT_REDIS_HOST,
  DEFAULT_REDIS_PORT,
  describeRedisConfig,
  loadRedisConfig,
  redisSettings,
} from './config.js';
export type { RedisClient, RequestConnectionOptions, WorkerConnectionOptions } from './connections.js';
export {
  awaitReplicas,
  createRequestConnection,
  createWorkerConnection,
  DEFAULT_COMMAND_TIMEOUT_MS,
  duplicateConnection,
  isCluster,
  masterNodes,
  nodeOptions,
  reconnectDelay,
  waitForReady,
} from './connections.js';
export type { RedisKeysErrorCode } from './errors.js';
export { InvalidIdError, isRedisFull, NotReplicatedError, RedisConfigError, RedisKeysError } from './errors.js';
export type { EvictionInfo } from './eviction.js';
export { getEvictionInfo, queueEvictionWarning } from './eviction.js';
export { releaseHeldLock } from './held-lock.js';
export { assertSafeId, isSafeId, MAX_ID_LENGTH, SAFE_ID_PATTERN, safeIdSchema } from './ids.js';
export type { Keyspace, KeyspaceOptions, QueueLocation, SessionPrefixes } from './keyspace.js';
export { createKeyspace, keyspaceFor } from './keyspace.js';
export type { NamespaceId, NamespaceInfo } from './namespaces.js';
export { JOB_RETENTION, NAMESPACES, namespaceInfo, namespaceTtl, renderNamespaceTable } from './namespaces.js';
export type { QueueGroup, QueueName } from './queues.js';
export { isQueueName, QUEUE_NAMES, splitQueueName } from './queues.js';
export { scanKeys } from './scan.js';
export type { LuaScript } from './script.js';
export { defineLuaScript } from './script.js';
