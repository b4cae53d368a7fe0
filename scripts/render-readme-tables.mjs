// Rewrites the generated tables in the READMEs: the key namespaces from @nself-tv/redis-keys, the
// ingest stages from @nself-tv/queues, the layout inside a media item from @nself-tv/storage, every environment variable from the settings schemas and the
// HTTP error registry (apps/demo's readme-tables; run `pnpm build` first). Their tests fail when a
// README drifts.
import { readFileSync, writeFileSync } from 'node:fs';
import { readmeTables } from '../apps/demo/dist/readme-tables.js';
import { renderStageTable } from '../packages/queues/dist/index.js';
import { renderNamespaceTable } from '../packages/redis-keys/dist/index.js';
import { renderItemLayoutTable } from '../packages/storage/dist/index.js';

const tables = [
  { marker: 'namespaces', table: renderNamespaceTable(), files: ['README.md', 'packages/redis-keys/README.md'] },
  { marker: 'stages', table: renderStageTable(), files: ['packages/queues/README.md'] },
  { marker: 'item-layout', table: renderItemLayoutTable(), files: ['README.md', 'packages/storage/README.md'] },
  ...readmeTables(),
];
for (const { marker, table, files } of tables) {
  for (const file of files) {
    const path = new URL(`../${file}`, import.meta.url);
    const text = readFileSync(path, 'utf8');
    const next = text.replace(
      new RegExp(`<!-- ${marker}:start -->[\\s\\S]*?<!-- ${marker}:end -->`),
      `<!-- ${marker}:start -->\n${table}\n<!-- ${marker}:end -->`,
    );
    if (next === text && !text.includes(table)) throw new Error(`${file}: no ${marker} markers found`);
    writeFileSync(path, next);
    console.log(`${file}: ${marker} table up to date`);
  }
}
