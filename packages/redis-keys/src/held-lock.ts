import type { RedisClient } from './connections.js';
import releaseSource from './release-lock.lua';
import { defineLuaScript } from './script.js';

const release = defineLuaScript(releaseSource);

/**
 * Releases a lock taken with `SET key token PX ms NX`, only while `token` still holds it: a
 * holder whose lock expired cannot delete the lock a newer holder took. The one compare-and-delete
 * of every package (the cache's refill locks, the queues' part locks).
 * @returns whether this caller's lock was released
 */
export async function releaseHeldLock(client: RedisClient, key: string, token: string): Promise<boolean> {
  return (await release.run(client, [key], [token])) === 1;
}
