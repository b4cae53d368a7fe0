// Shared by this package's tests only (not exported).

import { createKeyspace, createRequestConnection, loadRedisConfig, type RedisClient } from '@nself-tv/redis-keys';
import { afterAll } from 'vitest';
import { createSessionStore, type SessionStoreOptions } from './session-store.js';

/** Session stores on `url` under `namespace`, with their connections closed after the file. */
export function sessionKit(url: string, namespace: string) {
  const clients: RedisClient[] = [];
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });
  return {
    store(options: Partial<SessionStoreOptions> = {}) {
      const connection = createRequestConnection(loadRedisConfig({ REDIS_URL: url }), { commandTimeoutMs: 5000 });
      connection.on('error', () => undefined);
      clients.push(connection);
      return createSessionStore({ connection, keyspace: createKeyspace({ namespace }), ...options });
    },
  };
}

export const request = (n: number | string, over: Record<string, string> = {}) => ({
  userId: `user-${n}`,
  familyId: 'fam-1',
  deviceId: `device-${n}`,
  mediaId: 'media-1',
  ...over,
});
