import type { Keyspace, QueueName } from '@nself-tv/redis-keys';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobOptionsFor, type QueueSettings } from './catalog.js';

/**
 * Opens the BullMQ `Queue` of a spec queue with the right prefix, so its keys
 * are exactly `bull:video:transcode:*` (or namespaced), and with the queue's
 * default job options. Every Queue of this package is made here. With
 * `readOnly` it writes nothing to Redis (for inspectors and dashboards).
 */
export function openQueue(
  queue: QueueName,
  connection: Redis,
  keyspace: Keyspace,
  settings: QueueSettings,
  options: { failFast?: boolean; readOnly?: boolean } = {},
): Queue {
  const location = keyspace.queue(queue);
  return new Queue(location.name, {
    connection,
    prefix: location.prefix,
    defaultJobOptions: jobOptionsFor(settings),
    ...(options.failFast ? { skipWaitingForReady: true } : {}),
    // A Queue writes its meta hash when it connects; readers must not.
    ...(options.readOnly ? { skipMetasUpdate: true } : {}),
  });
}
