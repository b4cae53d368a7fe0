import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { useTestRedis } from '@nself-tv/test-redis';
import { expect, it } from 'vitest';
import * as api from './index.js';

const redis = useTestRedis();

it('runs the usage example of the README', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const block = readme.match(/<!-- example:start -->\n```js\n([\s\S]*?)```\n<!-- example:end -->/)?.[1];
  expect(block).toBeDefined();
  const body = (block ?? '').replace(/^import [\s\S]*? from '@nself-tv\/redis-keys';\n/m, '');
  expect(body).not.toMatch(/^import /m);
  const names = Object.keys(api);
  const run = new Function('assert', 'env', ...names, `return (async () => {\n${body}\n})();`);
  // The example writes un-namespaced spec keys, so it gets a database of its own.
  await run(assert, { REDIS_URL: `${redis.url}/9` }, ...names.map((n) => (api as Record<string, unknown>)[n]));
});
