import { createKeyspace, type Keyspace, keyspaceFor, type RedisClient } from '@nself-tv/redis-keys';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { countKeys } from './count-keys.js';
import type { CacheEventInput, QueueCountsSource, SessionEventInput, WorkerEventInput } from './inputs.js';
import { METRIC_NAMES as N, QUEUE_STATES } from './names.js';
import { infoNumber, parseInfo } from './redis-info.js';

/** Options of {@link createTvMetrics}. */
export interface TvMetricsOptions {
  /** Registry to register on. @default a new Registry */
  register?: Registry;
  /** Node process metrics (`process_*`, `nodejs_*`). @default true */
  defaultMetrics?: boolean;
  /**
   * Source of `nself_tv_queue_jobs`, read at scrape time: `createJobInspector(connection)`
   * from `@nself-tv/queues` (two Redis commands per queue, whatever the number of jobs).
   * @default none (the gauge stays empty)
   */
  queues?: QueueCountsSource;
  /**
   * The queues this process works on: their job counters start at 0 instead of appearing at 1
   * with the first event, so `increase()` and `rate()` see that first failure or stall.
   * @default none (series appear with their first event)
   */
  queueNames?: readonly string[];
  /**
   * Redis to read `INFO` from (redis_exporter names) and to count live sessions
   * with SCAN for `nself_tv_stream_sessions_active`. @default none
   */
  redis?: RedisClient;
  /** @default keyspaceFor(redis) (the spec's keys, or the cluster layout), else createKeyspace() */
  keyspace?: Keyspace;
}

/** The registry plus listeners to hand to workers, caches and session stores. */
export interface TvMetrics {
  readonly register: Registry;
  /** Pass as `onEvent` to `createQueueWorker`. */
  onWorkerEvent(event: WorkerEventInput): void;
  /** Pass as `onEvent` to `createCache`. */
  onCacheEvent(event: CacheEventInput): void;
  /** Pass as `onEvent` to `createSessionStore`. */
  onSessionEvent(event: SessionEventInput): void;
  /** One playback request (playlist, segment, subtitle, trickplay) and the bytes sent. */
  onPlaybackEvent(event: PlaybackEvent): void;
  /** The text exposition for `GET /metrics`. */
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** What the gateway served, or why it refused. */
export interface PlaybackEvent {
  /** `ok` (200/206/304), `unauthorized` (no or bad signature), `forbidden` (expired, session gone, other media), `not_found`, `error`. */
  result: 'ok' | 'unauthorized' | 'forbidden' | 'not_found' | 'error';
  kind: 'playlist' | 'segment' | 'subtitle' | 'image' | 'other';
  bytes: number;
}

const PLAYBACK_KINDS: readonly PlaybackEvent['kind'][] = ['playlist', 'segment', 'subtitle', 'image', 'other'];
const PLAYBACK_RESULTS: readonly PlaybackEvent['result'][] = ['ok', 'unauthorized', 'forbidden', 'not_found', 'error'];

const CACHE_RESULT: Readonly<Record<string, string>> = {
  hit: 'hit',
  miss: 'miss',
  stale: 'stale',
  redis_error: 'error',
};

/**
 * Creates the nself-tv metrics. Label values are bounded: queue names from the
 * spec, cache entry names (never keys), fixed result sets.
 *
 * @example
 * const metrics = createTvMetrics({ queues: createJobInspector(connection), redis: connection });
 * app.get('/metrics', async (_, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
 */
export function createTvMetrics(options: TvMetricsOptions = {}): TvMetrics {
  const register = options.register ?? new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register });
  const keyspace = options.keyspace ?? (options.redis ? keyspaceFor(options.redis) : createKeyspace());
  const { queues, redis } = options;

  new Gauge({
    name: N.queueJobs,
    help: 'Jobs per queue and state, read from BullMQ at scrape time.',
    labelNames: ['queue', 'state'],
    registers: [register],
    async collect() {
      if (!queues) return;
      try {
        for (const counts of await queues.counts()) {
          for (const state of QUEUE_STATES) this.set({ queue: counts.queue, state }, counts[state]);
        }
      } catch {
        // A scrape must not fail because Redis is away; the series go stale instead.
      }
    },
  });
  const duration = new Histogram({
    name: N.queueJobDuration,
    help: 'Wall time of finished job attempts, in seconds.',
    labelNames: ['queue'],
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 7200],
    registers: [register],
  });
  // Parts (a transcode's chunks and its audio) apart from whole jobs: their pace is the ETA of the films in flight.
  const partDuration = new Histogram({
    name: N.queuePartDuration,
    help: 'Wall time of completed job parts (a transcode chunk, its audio), in seconds.',
    labelNames: ['queue'],
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    registers: [register],
  });
  const partsCompleted = new Counter({
    name: N.queuePartsCompleted,
    help: 'Job parts completed (a transcode chunk, its audio).',
    labelNames: ['queue'],
    registers: [register],
  });
  const completed = new Counter({
    name: N.queueJobsCompleted,
    help: 'Jobs completed.',
    labelNames: ['queue'],
    registers: [register],
  });
  const failed = new Counter({
    name: N.queueJobsFailed,
    help: 'Jobs failed for good (no attempts left, or unrecoverable).',
    labelNames: ['queue'],
    registers: [register],
  });
  const retried = new Counter({
    name: N.queueJobsRetried,
    help: 'Failed attempts that will be retried.',
    labelNames: ['queue'],
    registers: [register],
  });
  const stalled = new Counter({
    name: N.queueJobsStalled,
    help: 'Jobs this worker found stalled (lock lost) and moved back.',
    labelNames: ['queue'],
    registers: [register],
  });
  const cacheRequests = new Counter({
    name: N.cacheRequests,
    help: 'Cache reads by entry and result (hit, miss, stale, error).',
    labelNames: ['entry', 'result'],
    registers: [register],
  });
  const loaderDuration = new Histogram({
    name: N.cacheLoaderDuration,
    help: 'Time spent in cache loaders, in seconds.',
    labelNames: ['entry'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [register],
  });
  const admissions = new Counter({
    name: N.streamAdmissions,
    help: 'Stream admissions by result (admitted, family_limit, device_limit).',
    labelNames: ['result'],
    registers: [register],
  });
  const heartbeats = new Counter({
    name: N.streamHeartbeats,
    help: 'Heartbeats by result (ok, session_not_found, not_owner).',
    labelNames: ['result'],
    registers: [register],
  });
  new Gauge({
    name: N.streamSessionsActive,
    help: 'Live playback sessions (session keys, counted with SCAN at scrape time).',
    registers: [register],
    async collect() {
      if (!redis) return;
      try {
        this.set(await countKeys(redis, keyspace.pattern('session')));
      } catch {
        // Leave the last value.
      }
    },
  });

  const playbackRequests = new Counter({
    name: N.playbackRequests,
    help: 'Playback requests served by the gateway, by result and kind of file.',
    labelNames: ['result', 'kind'],
    registers: [register],
  });
  const playbackBytes = new Counter({
    name: N.playbackBytes,
    help: 'Bytes of playback files sent by the gateway, by kind of file.',
    labelNames: ['kind'],
    registers: [register],
  });

  // Every series a process can count is exported from its start, at 0: a counter that first
  // appears at 1 looks like no increase to Prometheus, and a ratio of two counters is empty
  // while one of them has no series yet.
  for (const queue of options.queueNames ?? []) {
    for (const counter of [completed, failed, retried, stalled, partsCompleted]) counter.inc({ queue }, 0);
    // So is the parts' histogram: the pace recording rules read its _sum and _count.
    partDuration.zero({ queue });
  }
  for (const result of ['admitted', 'family_limit', 'device_limit']) admissions.inc({ result }, 0);
  for (const result of ['ok', 'session_not_found', 'not_owner']) heartbeats.inc({ result }, 0);
  for (const kind of PLAYBACK_KINDS) {
    playbackBytes.inc({ kind }, 0);
    for (const result of PLAYBACK_RESULTS) playbackRequests.inc({ result, kind }, 0);
  }

  if (redis) {
    // One INFO per scrape feeds all of these: the gauges' collect calls start in
    // the same tick and share the pending read.
    let pending: Promise<Map<string, string>> | undefined;
    const readInfo = () => {
      pending ??= redis
        .info()
        .then(parseInfo)
        .finally(() => {
          pending = undefined;
        });
      return pending;
    };
    const fromInfo = (name: string, help: string, value: (f: Map<string, string>) => number) =>
      new Gauge({
        name,
        help,
        registers: [register],
        async collect() {
          try {
            this.set(value(await readInfo()));
          } catch {
            // Leave the last value.
          }
        },
      });
    fromInfo(N.redisConnectedClients, 'Redis connected_clients.', (f) => infoNumber(f, 'connected_clients'));
    fromInfo(N.redisMemoryUsed, 'Redis used_memory in bytes.', (f) => infoNumber(f, 'used_memory'));
    fromInfo(N.redisMemoryMax, 'Redis maxmemory in bytes (0 = no limit).', (f) => infoNumber(f, 'maxmemory'));
    // Counters, as redis_exporter exports them: Prometheus then handles a Redis restart as a reset.
    const counterFromInfo = (name: string, help: string, field: string) =>
      new Counter({
        name,
        help,
        registers: [register],
        async collect() {
          try {
            const value = infoNumber(await readInfo(), field);
            this.reset();
            this.inc(value);
          } catch {
            // Leave the last value.
          }
        },
      });
    counterFromInfo(N.redisCommandsProcessed, 'Redis total_commands_processed.', 'total_commands_processed');
    counterFromInfo(N.redisKeyspaceHits, 'Redis keyspace_hits.', 'keyspace_hits');
    counterFromInfo(N.redisKeyspaceMisses, 'Redis keyspace_misses.', 'keyspace_misses');
    fromInfo(
      N.redisEvictionPolicyNoeviction,
      '1 when maxmemory-policy is noeviction (required for queues), else 0.',
      (f) => (f.get('maxmemory_policy') === 'noeviction' ? 1 : 0),
    );
  }

  return {
    register,
    onWorkerEvent(event) {
      const seconds = (event.durationMs ?? 0) / 1000;
      switch (event.type) {
        case 'completed':
          if (event.part) {
            partsCompleted.inc({ queue: event.queue });
            partDuration.observe({ queue: event.queue }, seconds);
            break;
          }
          completed.inc({ queue: event.queue });
          duration.observe({ queue: event.queue }, seconds);
          break;
        case 'failed':
          duration.observe({ queue: event.queue }, seconds);
          if (event.final) failed.inc({ queue: event.queue });
          else retried.inc({ queue: event.queue });
          break;
        case 'stalled':
          stalled.inc({ queue: event.queue });
          break;
        default:
      }
    },
    onCacheEvent(event) {
      const result = CACHE_RESULT[event.type];
      if (!event.entry) return;
      if (result) cacheRequests.inc({ entry: event.entry, result });
      if (event.type === 'load') loaderDuration.observe({ entry: event.entry }, (event.durationMs ?? 0) / 1000);
    },
    onSessionEvent(event) {
      if (event.type === 'admit') {
        // A replayed admission took no new slot: it counts as admitted for the client.
        admissions.inc({ result: event.result === 'replayed' ? 'admitted' : event.result });
      } else if (event.type === 'heartbeat') {
        heartbeats.inc({ result: event.result });
      }
    },
    onPlaybackEvent(event) {
      playbackRequests.inc({ result: event.result, kind: event.kind });
      if (event.bytes > 0) playbackBytes.inc({ kind: event.kind }, event.bytes);
    },
    metrics: () => register.metrics(),
    get contentType() {
      return register.contentType;
    },
  };
}
