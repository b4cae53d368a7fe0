import { InvalidIdError } from './errors.js';
import { assertSafeId } from './ids.js';
import { NAMESPACES, type NamespaceId } from './namespaces.js';
import { type QueueGroup, type QueueName, splitQueueName } from './queues.js';

/** Options of {@link createKeyspace}. */
export interface KeyspaceOptions {
  /**
   * Prefix put in front of every key, BullMQ prefixes included, followed by `:`.
   * For shared Redis instances and tests. Must be a safe id.
   * @default undefined (keys exactly as the spec)
   */
  namespace?: string | undefined;
}

/** Where BullMQ must be pointed for one queue. */
export interface QueueLocation {
  /** BullMQ `prefix` option, for example `bull:video`. */
  readonly prefix: string;
  /** BullMQ queue name, for example `transcode`. */
  readonly name: string;
}

/** Builds every Redis key of the project. Obtain one with {@link createKeyspace}. */
export interface Keyspace {
  /** The global namespace prefix, when one is set. */
  readonly namespace: string | undefined;
  /** BullMQ prefix of a queue group: `bull:video` or `bull:image`. */
  queuePrefix(group: QueueGroup): string;
  /** BullMQ prefix and name for a spec queue name. */
  queue(queue: QueueName): QueueLocation;
  /** One BullMQ key of a queue, for example `queueKey('video:transcode', 'wait')`. */
  queueKey(queue: QueueName, suffix: string): string;
  /** `cache:trending` */
  cacheTrending(): string;
  /** `cache:popular` */
  cachePopular(): string;
  /** `cache:recent` */
  cacheRecent(): string;
  /** `cache:recommendations:{userId}` */
  cacheRecommendations(userId: string): string;
  /** `cache:search:{hash}`; `hash` must be a lowercase hex sha256. */
  cacheSearch(hash: string): string;
  /** A cache entry outside the spec's five: `cache:{name}` or `cache:{name}:{id}`. */
  cacheEntry(name: string, id?: string): string;
  /**
   * Lock guarding the refill of a cache key: `{key}:lock`. Ids cannot contain
   * `:`, so a lock never collides with an entry.
   */
  cacheLock(cacheKey: string): string;
  /** Pub/sub channel on which cache invalidations are broadcast: `cache:invalidate`. */
  cacheInvalidationChannel(): string;
  /** `session:{sessionId}` */
  session(sessionId: string): string;
  /** `family_streams:{familyId}` */
  familyStreams(familyId: string): string;
  /** `device_streams:{deviceId}` */
  deviceStreams(deviceId: string): string;
  /** `ingest:{ingestId}` */
  ingest(ingestId: string): string;
  /**
   * SCAN MATCH pattern of a namespace (`session:*`), of one queue
   * (`bull:video:transcode:*`) or of all cache entries (`cache:*`).
   * Fixed keys such as `cache:trending` match only themselves.
   */
  pattern(of: NamespaceId | QueueName | 'cache'): string;
  /**
   * The part of a per-id namespace's keys before the id, for Lua scripts that
   * reach keys named inside other keys' values (`session:` for `session:{sessionId}`).
   */
  prefix(of: 'session' | 'familyStreams' | 'deviceStreams' | 'ingest' | 'cacheRecommendations' | 'cacheSearch'): string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Creates the key builder. Without options every key is exactly as the spec
 * writes it; `{x}` placeholders are filled with validated ids, without braces.
 *
 * @example
 * const keys = createKeyspace();
 * keys.session('3f2c...');                   // 'session:3f2c...'
 * keys.queue('video:transcode');             // { prefix: 'bull:video', name: 'transcode' }
 * createKeyspace({ namespace: 't1' }).cacheRecent(); // 't1:cache:recent'
 */
export function createKeyspace(options: KeyspaceOptions = {}): Keyspace {
  const namespace = options.namespace === undefined ? undefined : assertSafeId(options.namespace, 'namespace');
  const head = namespace === undefined ? '' : `${namespace}:`;
  const k = (...parts: string[]) => head + parts.join(':');

  const queuePrefix = (group: QueueGroup) => k('bull', group);
  const queue = (name: QueueName): QueueLocation => {
    const { group, name: short } = splitQueueName(name);
    return { prefix: queuePrefix(group), name: short };
  };

  return {
    namespace,
    queuePrefix,
    queue,
    queueKey(name, suffix) {
      const q = queue(name);
      return `${q.prefix}:${q.name}:${assertSafeId(suffix, 'suffix')}`;
    },
    cacheTrending: () => k('cache', 'trending'),
    cachePopular: () => k('cache', 'popular'),
    cacheRecent: () => k('cache', 'recent'),
    cacheRecommendations: (userId) => k('cache', 'recommendations', assertSafeId(userId, 'userId')),
    cacheSearch(hash) {
      if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) {
        throw new InvalidIdError('hash', 'must be a lowercase hex sha256 (64 characters)');
      }
      return k('cache', 'search', hash);
    },
    cacheEntry(name, id) {
      const n = assertSafeId(name, 'name');
      return id === undefined ? k('cache', n) : k('cache', n, assertSafeId(id, 'id'));
    },
    cacheLock(cacheKey) {
      if (!cacheKey.startsWith(k('cache', '')) || cacheKey.endsWith(':lock')) {
        throw new InvalidIdError('cacheKey', `must be a cache key of this keyspace, got '${cacheKey}'`);
      }
      return `${cacheKey}:lock`;
    },
    cacheInvalidationChannel: () => k('cache', 'invalidate'),
    session: (id) => k('session', assertSafeId(id, 'sessionId')),
    familyStreams: (id) => k('family_streams', assertSafeId(id, 'familyId')),
    deviceStreams: (id) => k('device_streams', assertSafeId(id, 'deviceId')),
    ingest: (id) => k('ingest', assertSafeId(id, 'ingestId')),
    pattern(of) {
      if (of === 'cache') return k('cache', '*');
      if (of.includes(':')) {
        const q = queue(of as QueueName);
        return `${q.prefix}:${q.name}:*`;
      }
      const row = NAMESPACES.find((ns) => ns.id === of);
      if (!row) throw new TypeError(`unknown namespace ${of}`);
      return head + row.key.replace(/\{[^}]+\}/g, '*');
    },
    prefix(of) {
      const row = NAMESPACES.find((ns) => ns.id === of);
      if (!row) throw new TypeError(`unknown namespace ${of}`);
      return head + row.key.replace(/\{[^}]+\}$/, '');
    },
  };
}
