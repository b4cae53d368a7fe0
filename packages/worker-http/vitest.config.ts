import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['@nself-tv/test-redis/global-setup'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
