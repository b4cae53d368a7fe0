import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/**
 * Runs the usage example of a package README (the ```js block between
 * `<!-- example:start -->` and `<!-- example:end -->`), so the README cannot
 * drift from the code. Its `@nself-tv/*` imports are replaced by `api`; the
 * block also sees `assert` (node:assert/strict) and `env`.
 */
export async function runReadmeExample(
  readme: URL,
  api: Record<string, unknown>,
  env: Record<string, string>,
): Promise<void> {
  const text = readFileSync(readme, 'utf8');
  const block = text.match(/<!-- example:start -->\n```js\n([\s\S]*?)```\n<!-- example:end -->/)?.[1];
  if (block === undefined) throw new Error(`${readme.pathname}: no example block`);
  const body = block.replace(/^import [\s\S]*? from '@nself-tv\/[a-z-]+';\n/gm, '');
  if (/^import /m.test(body))
    throw new Error(`${readme.pathname}: the example imports something other than @nself-tv packages`);
  const names = Object.keys(api);
  const run = new Function('assert', 'env', ...names, `return (async () => {\n${body}\n})();`);
  await run(assert, env, ...names.map((n) => api[n]));
}
