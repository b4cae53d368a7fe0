import { MEDIA_ERROR_FINALITY, type MediaErrorCode } from '@nself-tv/media-tools';
import { type Finality, QUEUE_ERROR_FINALITY, type QueueErrorCode } from '@nself-tv/queues';
import { STORAGE_ERROR_FINALITY, type StorageErrorCode } from '@nself-tv/storage';

/** Every code a worker app's job can fail with: the codes of the packages its processors use. */
export type FailureCode = QueueErrorCode | StorageErrorCode | MediaErrorCode;

/**
 * The worker apps' retry policy: each package's own table, composed. Typed over every
 * {@link FailureCode}, so a code that is in no table does not compile; a test keeps the tables
 * disjoint. Every worker of an app gets it (`createQueueWorker`'s `retryPolicy`).
 */
export const RETRY_POLICY: Readonly<Record<FailureCode, Finality>> = {
  ...QUEUE_ERROR_FINALITY,
  ...STORAGE_ERROR_FINALITY,
  ...MEDIA_ERROR_FINALITY,
};
