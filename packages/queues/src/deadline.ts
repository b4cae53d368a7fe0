import { type RedisClient, waitForReady } from '@nself-tv/redis-keys';
import { QueueError, redisFailure } from './errors.js';

/**
 * Rejects with `REDIS_UNAVAILABLE` when `promise` has not settled after
 * `timeoutMs`, so a caller behind HTTP never waits on a dead Redis.
 */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QueueError('REDIS_UNAVAILABLE', `${what}: Redis did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } catch (error) {
    if (error instanceof QueueError) throw error;
    throw redisFailure(what, error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `fn` once `connection` is ready, all within `timeoutMs`. A request-path
 * connection does not queue commands, so a call made while it is still
 * connecting (at start-up, or after a blip) waits for it instead of failing,
 * and a dead Redis still fails within the bound.
 */
export function whenReady<T>(
  connection: RedisClient,
  timeoutMs: number,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  const run = async () => {
    if (connection.status !== 'ready') await waitForReady(connection, timeoutMs);
    return fn();
  };
  return withDeadline(run(), timeoutMs, what);
}
