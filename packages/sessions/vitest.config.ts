import { luaTextPlugin } from '@nself-tv/test-redis/lua-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [luaTextPlugin()],
  test: {
    globalSetup: ['@nself-tv/test-redis/global-setup'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
