export { countKeys } from './count-keys.js';
export type {
  CacheEventInput,
  QueueCountsInput,
  QueueCountsSource,
  SessionEventInput,
  WorkerEventInput,
} from './inputs.js';
export { METRIC_NAMES, QUEUE_STATES } from './names.js';
export type { RedisStatus } from './status.js';
export { collectStatus, renderStatus } from './status.js';
export type { PlaybackEvent, TvMetrics, TvMetricsOptions } from './tv-metrics.js';
export { createTvMetrics } from './tv-metrics.js';
