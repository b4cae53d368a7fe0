/**
 * The six queues of the spec, by their spec names. BullMQ forbids `:` in queue
 * names, so each is split into a key prefix (`bull:video`) and a short name
 * (`transcode`); BullMQ then writes `bull:video:transcode:*` exactly as the spec
 * documents.
 */
export const QUEUE_NAMES = [
  'video:transcode',
  'video:trickplay',
  'video:subtitle',
  'image:poster',
  'image:sprite',
  'image:optimize',
] as const;

/** A queue's spec name, for example `video:transcode`. */
export type QueueName = (typeof QUEUE_NAMES)[number];

/** The family a queue belongs to; it picks the BullMQ prefix `bull:<group>`. */
export type QueueGroup = 'video' | 'image';

/** True when `value` is one of the six spec queue names. */
export function isQueueName(value: unknown): value is QueueName {
  return typeof value === 'string' && (QUEUE_NAMES as readonly string[]).includes(value);
}

/** Splits a spec queue name into its group and BullMQ queue name. */
export function splitQueueName(queue: QueueName): { group: QueueGroup; name: string } {
  const [group, name] = queue.split(':') as [QueueGroup, string];
  return { group, name };
}
