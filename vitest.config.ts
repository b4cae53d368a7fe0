import { defineConfig } from 'vitest/config';
import { luaTextPlugin } from './packages/test-redis/src/lua-plugin.js';

/**
 * The one test configuration: a project per package and app. Each package's
 * `test` script runs its own project (`vitest run --project <name>`, turbo runs
 * them one after the other); `npx vitest run` here runs them all at once.
 */
const redisSetup = new URL('./packages/test-redis/src/global-setup.ts', import.meta.url).pathname;

function project(
  dir: string,
  options: { redis?: boolean; lua?: boolean; testTimeoutMs?: number; hookTimeoutMs?: number } = {},
) {
  return {
    // Lua scripts are imported as text, as the published build bundles them.
    plugins: options.lua ? [luaTextPlugin()] : [],
    test: {
      name: dir.split('/').at(-1),
      root: new URL(`./${dir}`, import.meta.url).pathname,
      testTimeout: options.testTimeoutMs ?? 30_000,
      hookTimeout: options.hookTimeoutMs ?? 30_000,
      // A private redis-server for the project's run (or REDIS_URL when set).
      ...(options.redis ? { globalSetup: [redisSetup] } : {}),
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      project('packages/test-redis', { redis: true }),
      project('packages/storage'),
      project('packages/media-tools'),
      project('packages/sample-media'),
      project('packages/redis-keys', { redis: true, lua: true }),
      project('packages/queues', { redis: true, lua: true, testTimeoutMs: 60_000 }),
      project('packages/cache', { redis: true, lua: true, testTimeoutMs: 60_000 }),
      project('packages/sessions', { redis: true, lua: true, testTimeoutMs: 60_000 }),
      project('packages/metrics', { redis: true }),
      project('packages/service'),
      project('packages/worker-http', { redis: true }),
      project('apps/stream-gateway', { redis: true }),
      project('apps/video-processor', { testTimeoutMs: 120_000 }),
      project('apps/thumbnail-generator', { testTimeoutMs: 120_000 }),
      project('apps/demo', { testTimeoutMs: 240_000, hookTimeoutMs: 60_000 }),
      project('deploy'),
    ],
  },
});
