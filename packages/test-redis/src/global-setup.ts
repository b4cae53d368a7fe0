import type { TestProject } from 'vitest/node';
import { REDIS_URL_KEY } from './provided-context.js';
import { startRedisServer } from './redis-server.js';

/**
 * vitest `globalSetup`: uses `REDIS_URL` when set, otherwise starts a private
 * redis-server on a free port for the whole run and stops it at the end.
 * Fails the run (never skips) when neither is available.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.REDIS_URL;
  if (given) {
    project.provide(REDIS_URL_KEY, given);
    return async () => {};
  }
  const server = await startRedisServer();
  project.provide(REDIS_URL_KEY, server.url);
  return () => server.close();
}
