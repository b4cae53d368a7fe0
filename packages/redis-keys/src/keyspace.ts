import { createHash } from 'node:crypto';
import { isCluster, type RedisClient } from './connections.js';
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
  /**
   * Redis Cluster layout: keys that a script or a BullMQ queue uses together carry one hash tag,
   * so they live in one slot. Queues: the prefix `{bull}` (`{bull}:video:transcode:…`). A
   * family's streams: the family's tag, 8 hex digits of its SHA-256, in the family set, the
   * device sets and the session keys (`family_streams:{3f2a9c1b}:fam1`,
   * `device_streams:{3f2a9c1b}:dev1`, `session:{3f2a9c1b}:3f2a9c1b.<uuid>`); session ids
   * start with that tag so any holder of one can find its key. Other keys are unchanged.
   * @default false (keys exactly as the spec)
   */
  cluster?: boolean | undefined;
}

/** Key prefixes a session script builds keys from, for one family's slot. */
export interface SessionPrefixes {
  /** `session:` (`session:{tag}:` in cluster mode) */
  readonly session: string;
  /** `family_streams:` (`family_streams:{tag}:`) */
  readonly familyStreams: string;
  /** `device_streams:` (`device_streams:{tag}:`) */
  readonly deviceStreams: string;
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
  /** Whether keys carry Redis Cluster hash tags ({@link KeyspaceOptions.cluster}). */
  readonly cluster: boolean;
  /** BullMQ prefix of a queue group: `bull:video` or `bull:image`. */
  queuePrefix(group: QueueGroup): string;
  /** BullMQ prefix and name for a spec queue name. */
  queue(queue: QueueName): QueueLocation;
  /** One BullMQ key of a queue, for example `queueKey('video:transcode', 'wait')`. */
  queueKey(queue: QueueName, suffix: string): string;
  /**
   * The lock a job of `queue` and its parts share for work that must not interleave:
   * `bull:video:transcode:{jobId}:parts-lock`, beside the job's own keys (its slot on a cluster).
   */
  partsLock(queue: QueueName, jobId: string): string;
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
  /**
   * `session:{sessionId}`; in cluster mode `session:{tag}:{sessionId}`, the tag being the
   * session id's part before its first `.`.
   * @throws InvalidIdError in cluster mode for a session id without a family tag.
   */
  session(sessionId: string): string;
  /** `family_streams:{familyId}`; in cluster mode `family_streams:{tag}:{familyId}`. */
  familyStreams(familyId: string): string;
  /**
   * `device_streams:{deviceId}`; in cluster mode `device_streams:{tag}:{deviceId}`, with the
   * tag of `familyId` (required there: a device's sessions live in its family's slot).
   */
  deviceStreams(deviceId: string, familyId?: string): string;
  /**
   * A session id for a family: `random` as it is, or in cluster mode `{tag}.{random}` (unless
   * it already starts with the family's tag).
   */
  sessionId(familyId: string, random: string): string;
  /**
   * The key prefixes session scripts build keys from: for the family of `sessionOrFamily`
   * (a session id, or `{ familyId }`) in cluster mode; the same for everyone otherwise.
   */
  sessionPrefixes(sessionOrFamily: string | { familyId: string }): SessionPrefixes;
  /** `ingest:{ingestId}` */
  ingest(ingestId: string): string;
  /** `ingest_rate:{familyId}`: the family's ingests in the current minute. */
  ingestRate(familyId: string): string;
  /** `ingest_active:{familyId}`: the family's ingests whose transcode has not ended. */
  ingestActive(familyId: string): string;
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

  const cluster = options.cluster === true;
  const queuePrefix = (group: QueueGroup) => (cluster ? k('{bull}', group) : k('bull', group));
  const familyTag = (familyId: string) =>
    createHash('sha256').update(assertSafeId(familyId, 'familyId')).digest('hex').slice(0, 8);
  const sessionTag = (sessionId: string) => {
    const tag = assertSafeId(sessionId, 'sessionId').split('.')[0] ?? '';
    if (!/^[0-9a-f]{8}$/.test(tag) || tag.length === sessionId.length) {
      throw new InvalidIdError('sessionId', 'in cluster mode starts with its family tag (8 hex digits and a dot)');
    }
    return tag;
  };
  const prefixes = (tag: string | undefined): SessionPrefixes =>
    tag === undefined
      ? { session: k('session', ''), familyStreams: k('family_streams', ''), deviceStreams: k('device_streams', '') }
      : {
          session: k('session', `{${tag}}`, ''),
          familyStreams: k('family_streams', `{${tag}}`, ''),
          deviceStreams: k('device_streams', `{${tag}}`, ''),
        };
  const queue = (name: QueueName): QueueLocation => {
    const { group, name: short } = splitQueueName(name);
    return { prefix: queuePrefix(group), name: short };
  };

  return {
    namespace,
    cluster,
    queuePrefix,
    queue,
    queueKey(name, suffix) {
      const q = queue(name);
      return `${q.prefix}:${q.name}:${assertSafeId(suffix, 'suffix')}`;
    },
    partsLock(name, jobId) {
      const q = queue(name);
      return `${q.prefix}:${q.name}:${assertSafeId(jobId, 'jobId')}:parts-lock`;
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
    session: (id) => (cluster ? prefixes(sessionTag(id)).session + id : k('session', assertSafeId(id, 'sessionId'))),
    familyStreams: (id) =>
      cluster ? prefixes(familyTag(id)).familyStreams + id : k('family_streams', assertSafeId(id, 'familyId')),
    deviceStreams(id, familyId) {
      const device = assertSafeId(id, 'deviceId');
      if (!cluster) return k('device_streams', device);
      if (familyId === undefined) throw new InvalidIdError('familyId', 'is required for a device set in cluster mode');
      return prefixes(familyTag(familyId)).deviceStreams + device;
    },
    sessionId(familyId, random) {
      const id = assertSafeId(random, 'sessionId');
      if (!cluster) return id;
      const tag = familyTag(familyId);
      return assertSafeId(id.startsWith(`${tag}.`) ? id : `${tag}.${id}`, 'sessionId');
    },
    sessionPrefixes(of) {
      if (!cluster) return prefixes(undefined);
      return prefixes(typeof of === 'string' ? sessionTag(of) : familyTag(of.familyId));
    },
    ingest: (id) => k('ingest', assertSafeId(id, 'ingestId')),
    ingestRate: (id) => k('ingest_rate', assertSafeId(id, 'familyId')),
    ingestActive: (id) => k('ingest_active', assertSafeId(id, 'familyId')),
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

/**
 * The keyspace for a connection: the cluster layout on a Redis Cluster, the spec's otherwise.
 * What every package uses when it is given a connection and no keyspace.
 */
export function keyspaceFor(client: RedisClient, options: Omit<KeyspaceOptions, 'cluster'> = {}): Keyspace {
  return createKeyspace({ ...options, cluster: isCluster(client) });
}
