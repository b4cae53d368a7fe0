import { createHash } from 'node:crypto';
import type { RedisClient } from './connections.js';

/** A Lua script run by SHA, loaded on first use. */
export interface LuaScript {
  /** SHA1 of the source, as `SCRIPT LOAD` would return it. */
  readonly sha: string;
  /**
   * Runs the script with `EVALSHA`; when the server does not know it yet
   * (`NOSCRIPT`, for example after a restart or failover) it runs `EVAL`,
   * which also caches it, so the body crosses the network once per server.
   */
  run(client: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
}

/**
 * Wraps a Lua source for EVALSHA with NOSCRIPT fallback.
 *
 * @example
 * const script = defineLuaScript("return redis.call('GET', KEYS[1])");
 * await script.run(client, ['k'], []);
 */
export function defineLuaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    sha,
    async run(client, keys, args) {
      try {
        return await client.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}
