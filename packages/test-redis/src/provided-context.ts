import type {} from 'vitest';

/** Name under which the global setup provides the Redis URL to test files. */
export const REDIS_URL_KEY = 'redisUrl';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the Redis every test file of this run shares (each under its own namespace). */
    [REDIS_URL_KEY]: string;
  }
}
