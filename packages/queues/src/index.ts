// The public API of @nself-tv/queues, by what a service does with it. Everything
// else (queue handles, schema pieces, build helpers) stays internal.

// The six queues and their settings.
export type { QueueName } from '@nself-tv/redis-keys';
export { QUEUE_NAMES } from '@nself-tv/redis-keys';
// Running jobs, and the one retry policy.
export type { BackoffSettings, QueueConsumer, QueueEnvValues, QueueOverrides, QueueSettings } from './catalog.js';
export {
  DEFAULT_JOB_OPTIONS,
  QUEUE_CATALOG,
  queueEnvSettings,
  queuesOf,
} from './catalog.js';
// Errors.
export type { PayloadIssue, QueueErrorCode } from './errors.js';
export { PayloadError, QueueError } from './errors.js';
// Ingest pipelines.
export type {
  IngestLimits,
  IngestService,
  IngestServiceOptions,
  IngestStart,
  StageUpdate,
} from './ingest/ingest-service.js';
export { createIngestService, INGEST_LIMITS, IngestLimitError } from './ingest/ingest-service.js';
export type { IngestObserverOptions } from './ingest/observer.js';
export { ingestObserver } from './ingest/observer.js';
export type {
  ExternalStageName,
  IngestJob,
  IngestStageName,
  IngestStatus,
  JobStageName,
  StageRunner,
  StageSpec,
  StageStatus,
} from './ingest/pipeline.js';
export { INGEST_PIPELINE, renderStageTable } from './ingest/pipeline.js';
export type { PriorityClass } from './ingest/schedule.js';
export { PRIORITY_CLASSES, transcodePriority } from './ingest/schedule.js';
export { sidecarNameHints } from './ingest/sidecar-names.js';
export type { IngestRequest, IngestStage, IngestState } from './ingest/state.js';
export { MAX_INGEST_ID_LENGTH } from './ingest/state.js';
// Enqueueing.
export type { EnqueueOptions, Producer, ProducerOptions } from './producer.js';
export { createProducer } from './producer.js';
export type { JobContext, JobPart, ResumedRun } from './runner/context.js';
// What follows the runs of a worker (the ingest is one observer).
export type {
  CompletedPart,
  ObservedRun,
  PartParentInfo,
  RunAnswer,
  RunFailure,
  RunHooks,
  RunObserver,
} from './runner/observers.js';
// Jobs split into parts (BullMQ parent/child jobs of one queue).
export type { AnyPartProcessor, PartEffect, PartParent, PartProcessor } from './runner/parts.js';
export { partPriority, partProcessor } from './runner/parts.js';
export type { Finality, RetryPolicy } from './runner/retry-policy.js';
export { failureCode, isFinalFailure, QUEUE_ERROR_FINALITY, UNCODED_FAILURE } from './runner/retry-policy.js';
export type { QueueProcessor, QueueWorker, QueueWorkerOptions } from './runner/worker.js';
export { createQueueWorker } from './runner/worker.js';
export type { WorkerEvent, WorkerEventListener } from './runner/worker-events.js';
// Payloads and results: zod schemas, their types, JSON Schemas for other languages.
export type { OutputLocation, StorageLocation } from './schemas/common.js';
export {
  ingestRequestJsonSchema,
  ingestStateJsonSchema,
  payloadJsonSchema,
  resultJsonSchema,
} from './schemas/json-schema.js';
export type { JobResult, Payload, PayloadInput } from './schemas/registry.js';
export { PAYLOAD_SCHEMAS, parsePayload, RESULT_SCHEMAS } from './schemas/registry.js';
export type { RenditionName, SidecarFile } from './schemas/video.js';
export { isCharset, MAX_THUMBNAILS, RENDITION_NAMES } from './schemas/video.js';
// Reading status and keeping retention.
export type { JobInspector, JobStatus, QueueCounts, RetentionCleaner, RetentionCleanerOptions } from './status.js';
export { createJobInspector, startRetentionCleaner } from './status.js';
