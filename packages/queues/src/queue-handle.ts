import type { Keyspace, QueueName, RedisClient } from '@nself-tv/redis-keys';
import { Queue } from 'bullmq';
import { jobOptionsFor, type QueueSettings } from './catalog.js';

/**
 * Opens the BullMQ `Queue` of a spec queue with the right prefix, so its keys
 * are exactly those of the spec (or namespaced), and with the queue's
 * default job options. Every Queue of this package is made here. With
 * `readOnly` it writes nothing to Redis (for inspectors and dashboards).
 */
export function openQueue(
  queue: QueueName,
  connection: RedisClient,
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

/** Lazily opened Queues, one per spec queue, shared by one producer or inspector. */
export interface QueueHandles {
  get(queue: QueueName): Queue;
  close(): Promise<void>;
}

/**
 * Opens each Queue on first use with `settingsFor(queue)` and fail-fast
 * readiness. Queue errors are swallowed here because they reach callers
 * through the rejected command.
 */
export function queueHandles(
  connection: RedisClient,
  keyspace: Keyspace,
  settingsFor: (queue: QueueName) => QueueSettings,
  options: { readOnly?: boolean } = {},
): QueueHandles {
  const open = new Map<QueueName, Queue>();
  return {
    get(queue) {
      let q = open.get(queue);
      if (!q) {
        q = openQueue(queue, connection, keyspace, settingsFor(queue), { failFast: true, ...options });
        q.on('error', () => undefined);
        open.set(queue, q);
      }
      return q;
    },
    async close() {
      await Promise.all([...open.values()].map((q) => q.close()));
      open.clear();
    },
  };
}
