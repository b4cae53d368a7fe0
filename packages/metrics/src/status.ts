import { getEvictionInfo, type Keyspace, type RedisClient } from '@nself-tv/redis-keys';
import { countKeys } from './count-keys.js';
import type { QueueCountsInput, QueueCountsSource } from './inputs.js';
import { infoNumber, parseInfo } from './redis-info.js';

/** What `nself-tv-redis` reports. Every figure is read with INFO, SCAN or BullMQ's count script: nothing is written. */
export interface RedisStatus {
  redis: {
    version: string;
    usedMemoryBytes: number;
    maxmemoryBytes: number;
    evictionPolicy: string;
    connectedClients: number;
  };
  queues: QueueCountsInput[];
  cache: {
    trending: number;
    popular: number;
    recent: number;
    recommendations: number;
    search: number;
    /** Every key of the cache namespace, the five above included (locks too). */
    total: number;
  };
  sessions: { active: number; families: number; devices: number };
  ingests: number;
  warnings: string[];
}

/** Reads the status of one Redis for the operator CLI; `queues` counts the jobs (a `JobInspector`). */
export async function collectStatus(
  connection: RedisClient,
  keyspace: Keyspace,
  queues: QueueCountsSource,
): Promise<RedisStatus> {
  const [info, eviction, counts] = await Promise.all([
    connection.info().then(parseInfo),
    getEvictionInfo(connection),
    queues.counts(),
  ]);
  const count = (pattern: string) => countKeys(connection, pattern);
  const [trending, popular, recent, recommendations, search, total, active, families, devices, ingests] =
    await Promise.all([
      connection.exists(keyspace.cacheTrending()),
      connection.exists(keyspace.cachePopular()),
      connection.exists(keyspace.cacheRecent()),
      count(keyspace.pattern('cacheRecommendations')),
      count(keyspace.pattern('cacheSearch')),
      count(keyspace.pattern('cache')),
      count(keyspace.pattern('session')),
      count(keyspace.pattern('familyStreams')),
      count(keyspace.pattern('deviceStreams')),
      count(keyspace.pattern('ingest')),
    ]);
  const warnings: string[] = [];
  const queuesInUse = counts.some((q) => q.waiting + q.active + q.delayed + q.prioritized + q.completed + q.failed > 0);
  if (!eviction.safeForQueues) {
    warnings.push(
      `maxmemory-policy is '${eviction.policy}'${queuesInUse ? ' and queues live on this Redis' : ''}: queue keys and locks can be evicted and jobs lost. Use 'noeviction' here and move caches to their own Redis (CACHE_REDIS_URL).`,
    );
  }
  if (eviction.maxmemoryBytes > 0 && infoNumber(info, 'used_memory') > 0.9 * eviction.maxmemoryBytes) {
    warnings.push('used memory is above 90 % of maxmemory.');
  }
  return {
    redis: {
      version: info.get('redis_version') ?? 'unknown',
      usedMemoryBytes: infoNumber(info, 'used_memory'),
      maxmemoryBytes: eviction.maxmemoryBytes,
      evictionPolicy: eviction.policy,
      connectedClients: infoNumber(info, 'connected_clients'),
    },
    queues: [...counts],
    cache: { trending, popular, recent, recommendations, search, total },
    sessions: { active, families, devices },
    ingests,
    warnings,
  };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const pad = (s: string | number, n: number) => String(s).padStart(n);

/** Renders a status for people. */
export function renderStatus(status: RedisStatus): string {
  const lines: string[] = [];
  const r = status.redis;
  lines.push(
    `Redis ${r.version}  memory ${mb(r.usedMemoryBytes)}${r.maxmemoryBytes ? ` of ${mb(r.maxmemoryBytes)}` : ' (no limit)'}  policy ${r.evictionPolicy}  clients ${r.connectedClients}`,
    '',
    `${'queue'.padEnd(17)}${pad('waiting', 9)}${pad('prio', 7)}${pad('active', 8)}${pad('delayed', 9)}${pad('failed', 8)}${pad('completed', 11)}  paused`,
  );
  for (const q of status.queues) {
    lines.push(
      `${q.queue.padEnd(17)}${pad(q.waiting, 9)}${pad(q.prioritized, 7)}${pad(q.active, 8)}${pad(q.delayed, 9)}${pad(q.failed, 8)}${pad(q.completed, 11)}  ${q.isPaused ? 'yes' : 'no'}`,
    );
  }
  const c = status.cache;
  lines.push(
    '',
    `cache      trending ${c.trending}  popular ${c.popular}  recent ${c.recent}  recommendations ${c.recommendations}  search ${c.search}  (all cache:* keys ${c.total})`,
    `sessions   active ${status.sessions.active}  families ${status.sessions.families}  devices ${status.sessions.devices}`,
    `ingests    ${status.ingests}`,
  );
  for (const w of status.warnings) lines.push('', `WARNING: ${w}`);
  return lines.join('\n');
}
