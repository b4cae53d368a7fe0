import type { RedisClient } from '@nself-tv/redis-keys';
import type { LocalTier } from './lru.js';

/** A message on the cache invalidation channel: one key, or every key under a prefix. */
export type Invalidation = { key: string } | { prefix: string };

/**
 * Listens on the invalidation channel and drops what other instances
 * invalidate from this instance's first tier. Only needed with a local tier.
 */
export function subscribeInvalidations(subscriber: RedisClient, channel: string, local: LocalTier): void {
  subscriber.on('error', () => undefined);
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const msg = JSON.parse(message) as { key?: string; prefix?: string };
      if (typeof msg.key === 'string') local.delete(msg.key);
      if (typeof msg.prefix === 'string') local.deletePrefix(msg.prefix);
    } catch {
      // Not one of ours.
    }
  });
  void subscriber.subscribe(channel).catch(() => undefined);
}
