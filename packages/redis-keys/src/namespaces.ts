import { QUEUE_NAMES } from './queues.js';

/** One row of the spec's namespace table, extended with type and TTL. */
export interface NamespaceInfo {
  /** Stable identifier used by {@link Keyspace.pattern}. */
  readonly id: NamespaceId;
  /** The key or key family as the spec writes it; `{x}` is a placeholder. */
  readonly key: string;
  readonly purpose: string;
  /** The service that owns (writes) these keys. */
  readonly service: string;
  /** Redis type(s) stored under the keys. */
  readonly type: string;
  /** Expiry in seconds; `null` when the keys do not expire by TTL. */
  readonly ttlSeconds: number | null;
  /** Human description of how long keys live. */
  readonly retention: string;
}

/** Identifiers of the namespaces in {@link NAMESPACES}. */
export type NamespaceId =
  | 'videoQueues'
  | 'imageQueues'
  | 'cacheTrending'
  | 'cachePopular'
  | 'cacheRecent'
  | 'cacheRecommendations'
  | 'cacheSearch'
  | 'session'
  | 'familyStreams'
  | 'deviceStreams'
  | 'ingest'
  | 'ingestRate'
  | 'ingestActive';

const bullTypes =
  'BullMQ: LIST wait/active, ZSET delayed/prioritized/completed/failed, HASH job/meta, STREAM events, SET stalled';

/**
 * How long finished jobs stay in a queue, as the spec says: the one source of
 * the queues' job options, the retention cleaner and the table below.
 */
export const JOB_RETENTION = {
  completedAgeSeconds: 24 * 60 * 60,
  completedCount: 1000,
  failedAgeSeconds: 7 * 24 * 60 * 60,
  /**
   * Failed jobs kept per queue at most, besides the spec's 7 days: under `noeviction` a storm of
   * failures (a broken store, a bad batch) must not fill Redis. About 5 KB each with its stack.
   */
  failedCount: 5000,
} as const;

const jobRetention = `completed: ${JOB_RETENTION.completedAgeSeconds / 3600} h or ${JOB_RETENTION.completedCount} jobs; failed: ${JOB_RETENTION.failedAgeSeconds / 86_400} days or ${JOB_RETENTION.failedCount} jobs`;

/**
 * The namespace table of `redis-usage.md`, as data. Key builders, SCAN patterns,
 * TTLs used by the cache and session packages and the README table all come
 * from here.
 */
export const NAMESPACES: readonly NamespaceInfo[] = [
  {
    id: 'videoQueues',
    key: 'bull:video:*',
    purpose: `Video processing job queues (${QUEUE_NAMES.filter((q) => q.startsWith('video:')).join(', ')})`,
    service: 'video-processor',
    type: bullTypes,
    ttlSeconds: null,
    retention: jobRetention,
  },
  {
    id: 'imageQueues',
    key: 'bull:image:*',
    purpose: `Image processing job queues (${QUEUE_NAMES.filter((q) => q.startsWith('image:')).join(', ')})`,
    service: 'thumbnail-generator',
    type: bullTypes,
    ttlSeconds: null,
    retention: jobRetention,
  },
  {
    id: 'cacheTrending',
    key: 'cache:trending',
    purpose: 'Trending content cache',
    service: 'discovery_service',
    type: 'STRING (JSON)',
    ttlSeconds: 15 * 60,
    retention: '15 min',
  },
  {
    id: 'cachePopular',
    key: 'cache:popular',
    purpose: 'Popular content cache',
    service: 'discovery_service',
    type: 'STRING (JSON)',
    ttlSeconds: 60 * 60,
    retention: '1 h',
  },
  {
    id: 'cacheRecent',
    key: 'cache:recent',
    purpose: 'Recently added cache',
    service: 'discovery_service',
    type: 'STRING (JSON)',
    ttlSeconds: 5 * 60,
    retention: '5 min',
  },
  {
    id: 'cacheRecommendations',
    key: 'cache:recommendations:{userId}',
    purpose: 'User recommendations',
    service: 'recommendation_engine',
    type: 'STRING (JSON)',
    ttlSeconds: 60 * 60,
    retention: '1 h',
  },
  {
    id: 'cacheSearch',
    key: 'cache:search:{hash}',
    purpose: 'Search result cache',
    service: 'library_service',
    type: 'STRING (JSON)',
    ttlSeconds: 10 * 60,
    retention: '10 min',
  },
  {
    id: 'session',
    key: 'session:{sessionId}',
    purpose: 'Stream playback sessions',
    service: 'stream-gateway',
    type: 'STRING (JSON)',
    ttlSeconds: 300,
    retention: '300 s, refreshed by heartbeat',
  },
  {
    id: 'familyStreams',
    key: 'family_streams:{familyId}',
    purpose: 'Active session ids of a family (concurrent-stream limit)',
    service: 'stream-gateway',
    type: 'SET',
    ttlSeconds: 300,
    retention: 'session TTL, refreshed on use',
  },
  {
    id: 'deviceStreams',
    key: 'device_streams:{deviceId}',
    purpose: 'Active session ids of a device (concurrent-stream limit)',
    service: 'stream-gateway',
    type: 'SET',
    ttlSeconds: 300,
    retention: 'session TTL, refreshed on use',
  },
  {
    id: 'ingest',
    key: 'ingest:{ingestId}',
    purpose: 'VOD ingest pipeline state',
    service: 'library_service',
    type: 'STRING (JSON)',
    ttlSeconds: 24 * 60 * 60,
    retention: '24 h',
  },
  {
    id: 'ingestRate',
    key: 'ingest_rate:{familyId}',
    purpose: 'Ingests a family started in the current minute (the per-family ingest limit)',
    service: 'video-processor',
    type: 'STRING (counter)',
    ttlSeconds: 60,
    retention: '60 s from the minute’s first ingest',
  },
  {
    id: 'ingestActive',
    key: 'ingest_active:{familyId}',
    purpose: 'Ingests of a family whose transcode has not ended (its place in the fair chunk schedule)',
    service: 'video-processor',
    type: 'ZSET (ingest id → start ms)',
    ttlSeconds: 24 * 60 * 60,
    retention: '24 h from the last start; members leave when their transcode ends',
  },
];

/** Looks up a namespace row by id. */
export function namespaceInfo(id: NamespaceId): NamespaceInfo {
  const row = NAMESPACES.find((ns) => ns.id === id);
  if (!row) throw new TypeError(`unknown namespace ${String(id)}`);
  return row;
}

/** TTL in seconds of a namespace whose keys expire. */
export function namespaceTtl(id: NamespaceId): number {
  const ttl = namespaceInfo(id).ttlSeconds;
  if (ttl === null) throw new TypeError(`namespace ${id} has no TTL`);
  return ttl;
}

/** Renders the namespace table as Markdown, as it appears in the README files. */
export function renderNamespaceTable(): string {
  const lines = [
    '| Key | Purpose | Owner | Redis type | TTL / retention |',
    '| --- | --- | --- | --- | --- |',
    ...NAMESPACES.map((ns) => `| \`${ns.key}\` | ${ns.purpose} | ${ns.service} | ${ns.type} | ${ns.retention} |`),
  ];
  return lines.join('\n');
}
