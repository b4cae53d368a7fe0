import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/**
 * Runs the usage example of a package README (the ```js block between
 * `<!-- example:start -->` and `<!-- example:end -->`), so the README cannot
 * drift from the code. Its imports are replaced by the names in `api`; a name
 * the example imports but `api` lacks fails the run. The block also sees
 * `assert` (node:assert/strict) and `env`.
 */
export async function runReadmeExample(
  readme: URL,
  api: Record<string, unknown>,
  env: Record<string, string>,
): Promise<void> {
  const text = readFileSync(readme, 'utf8');
  const block = text.match(/<!-- example:start -->\n```js\n([\s\S]*?)```\n<!-- example:end -->/)?.[1];
  if (block === undefined) throw new Error(`${readme.pathname}: no example block`);
  const imports = [...block.matchAll(/^import \{([\s\S]*?)\} from '[^']+';$/gm)];
  const imported = imports.flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  );
  const missing = imported.filter((n) => !(n in api));
  if (missing.length > 0) {
    throw new Error(`${readme.pathname}: the example imports ${missing.join(', ')}, which the test does not provide`);
  }
  const body = block.replace(/^import \{[\s\S]*?\} from '[^']+';\n/gm, '');
  if (/^import /m.test(body)) throw new Error(`${readme.pathname}: only named imports are supported in examples`);
  const names = Object.keys(api);
  const run = new Function('assert', 'env', ...names, `return (async () => {\n${body}\n})();`);
  await run(assert, env, ...names.map((n) => api[n]));
}
