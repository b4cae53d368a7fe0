// Shared by this package's tests only (not exported).

import { createRequestConnection, keyspaceFor, loadRedisConfig, type RedisClient } from '@nself-tv/redis-keys';
import { afterAll } from 'vitest';
import { createSessionStore, type SessionStoreOptions } from './session-store.js';

/** Session stores on the Redis `env` names (a server or a cluster) under `namespace`, closed after the file. */
export function sessionKit(env: Record<string, string>, namespace: string) {
  const clients: RedisClient[] = [];
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });
  return {
    store(options: Partial<SessionStoreOptions> = {}) {
      const connection = createRequestConnection(loadRedisConfig(env), { commandTimeoutMs: 5000 });
      connection.on('error', () => undefined);
      clients.push(connection);
      return createSessionStore({ connection, keyspace: keyspaceFor(connection, { namespace }), ...options });
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
