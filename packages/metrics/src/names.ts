/**
 * Every metric name this package exposes. Dashboards and alert rules depend on
 * them; the monitoring test checks that everything they reference is here.
 */
export const METRIC_NAMES = {
  queueJobs: 'nself_tv_queue_jobs',
  queueJobDuration: 'nself_tv_queue_job_duration_seconds',
  queueJobsCompleted: 'nself_tv_queue_jobs_completed_total',
  queueJobsFailed: 'nself_tv_queue_jobs_failed_total',
  queueJobsRetried: 'nself_tv_queue_jobs_retried_total',
  queueJobsStalled: 'nself_tv_queue_jobs_stalled_total',
  queuePartsCompleted: 'nself_tv_queue_parts_completed_total',
  queuePartDuration: 'nself_tv_queue_part_duration_seconds',
  cacheRequests: 'nself_tv_cache_requests_total',
  cacheLoaderDuration: 'nself_tv_cache_loader_duration_seconds',
  streamAdmissions: 'nself_tv_stream_admissions_total',
  streamSessionsActive: 'nself_tv_stream_sessions_active',
  streamHeartbeats: 'nself_tv_stream_heartbeats_total',
  playbackRequests: 'nself_tv_playback_requests_total',
  playbackBytes: 'nself_tv_playback_bytes_total',
  redisConnectedClients: 'redis_connected_clients',
  redisMemoryUsed: 'redis_memory_used_bytes',
  redisMemoryMax: 'redis_memory_max_bytes',
  redisCommandsProcessed: 'redis_commands_processed_total',
  redisKeyspaceHits: 'redis_keyspace_hits_total',
  redisKeyspaceMisses: 'redis_keyspace_misses_total',
  redisEvictionPolicyNoeviction: 'nself_tv_redis_noeviction',
} as const;

/** Queue states reported by `nself_tv_queue_jobs`. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'paused'] as const;
