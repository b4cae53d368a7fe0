import type { QueueName } from '@nself-tv/redis-keys';

/** What a queue worker reports, for logs and metrics. Durations are in ms. */
export type WorkerEvent =
  | { type: 'started'; queue: QueueName; jobId: string; attempt: number }
  | { type: 'progress'; queue: QueueName; jobId: string; percent: number; phase?: string | undefined }
  | {
      type: 'completed';
      queue: QueueName;
      jobId: string;
      attempt: number;
      durationMs: number;
      /** True for a part of a job (a chunk of a transcode). */
      part?: boolean;
    }
  | {
      type: 'failed';
      queue: QueueName;
      jobId: string;
      attempt: number;
      /** False when the job will be retried. */
      final: boolean;
      reason: string;
      /** Stable code when the failure is one of ours (`INVALID_PAYLOAD`, `JOB_TIMEOUT`, …). */
      code: string | undefined;
      durationMs: number;
    }
  /** Waiting for its parts (BullMQ `waiting-children`); it runs again once they have completed. */
  | { type: 'suspended'; queue: QueueName; jobId: string; durationMs: number }
  | { type: 'requeued'; queue: QueueName; jobId: string; reason: string }
  | { type: 'stalled'; queue: QueueName; jobId: string }
  | { type: 'warning'; queue: QueueName; message: string }
  | { type: 'error'; queue: QueueName; error: Error };

/** Receives {@link WorkerEvent}s. It must not throw; errors in it are ignored. */
export type WorkerEventListener = (event: WorkerEvent) => void;
