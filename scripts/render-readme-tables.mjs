// Rewrites the generated namespace table in the READMEs from @nself-tv/redis-keys
// (run `pnpm build` first). The redis-keys tests fail when a README drifts.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderNamespaceTable } from '../packages/redis-keys/dist/index.js';

const table = renderNamespaceTable();
for (const file of ['README.md', 'packages/redis-keys/README.md']) {
  const path = new URL(`../${file}`, import.meta.url);
  const text = readFileSync(path, 'utf8');
  const next = text.replace(
    /<!-- namespaces:start -->[\s\S]*?<!-- namespaces:end -->/,
    `<!-- namespaces:start -->\n${table}\n<!-- namespaces:end -->`,
  );
  if (next === text && !text.includes(table)) throw new Error(`${file}: no namespaces markers found`);
  writeFileSync(path, next);
  console.log(`${file}: namespace table up to date`);
}
