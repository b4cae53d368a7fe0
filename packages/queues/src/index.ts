export type { QueueName } from '@nself-tv/redis-keys';
export { QUEUE_NAMES } from '@nself-tv/redis-keys';
export { UnrecoverableError } from 'bullmq';
export type { BackoffSettings, QueueConsumer, QueueOverrides, QueueSettings } from './catalog.js';
export {
  DEFAULT_JOB_OPTIONS,
  jobOptionsFor,
  jobOverridesFromEnv,
  QUEUE_CATALOG,
  queueEnvPrefix,
  queueSettingsFromEnv,
  queuesOf,
  resolveQueueSettings,
} from './catalog.js';
export type { PayloadIssue, QueueErrorCode } from './errors.js';
export { PayloadError, QueueError } from './errors.js';
export type { IngestService, IngestServiceOptions, StageUpdate } from './ingest/ingest-service.js';
export { createIngestService } from './ingest/ingest-service.js';
export type {
  ExternalStageName,
  IngestStageName,
  IngestStatus,
  StageDefinition,
  StageStatus,
} from './ingest/stages.js';
export { EXTERNAL_STAGES, INGEST_STAGE_NAMES, STAGE_DEFINITIONS } from './ingest/stages.js';
export type { IngestRequest, IngestStage, IngestState } from './ingest/state.js';
export { ingestRequestSchema, ingestStateSchema } from './ingest/state.js';
export type { JobContext } from './job-run.js';
export type { EnqueueOptions, Producer, ProducerOptions } from './producer.js';
export { createProducer } from './producer.js';
export { openQueue } from './queue-handle.js';
export { FINAL_ERROR_CODES, failureCode, isFinalFailure } from './retry-policy.js';
export type { OutputLocation, StorageLocation } from './schemas/common.js';
export { outputLocation, safeId, storageLocation } from './schemas/common.js';
export { IMAGE_FORMATS, OPTIMIZE_FORMATS } from './schemas/image.js';
export { fileStem, payloadJsonSchema, resultJsonSchema } from './schemas/json-schema.js';
export type { JobResult, Payload, PayloadInput } from './schemas/registry.js';
export { PAYLOAD_SCHEMAS, parsePayload, parseResult, RESULT_SCHEMAS } from './schemas/registry.js';
export type { RenditionName } from './schemas/video.js';
export { MAX_THUMBNAILS, MIN_THUMBNAIL_INTERVAL_SECONDS, RENDITION_NAMES } from './schemas/video.js';
export type { JobInspector, JobStatus, QueueCounts, RetentionCleaner, RetentionCleanerOptions } from './status.js';
export { createJobInspector, startRetentionCleaner } from './status.js';
export type { QueueProcessor, QueueWorker, QueueWorkerOptions } from './worker.js';
export { createQueueWorker } from './worker.js';
export type { WorkerEvent, WorkerEventListener } from './worker-events.js';
