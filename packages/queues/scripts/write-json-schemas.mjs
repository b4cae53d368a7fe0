// Writes the JSON Schema files shipped in schemas/ from the built package.
// The schemas test fails when the files and the zod schemas disagree.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileStem, payloadJsonSchema, QUEUE_NAMES, resultJsonSchema } from '../dist/index.js';

const dir = new URL('../schemas/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const queue of QUEUE_NAMES) {
  writeFileSync(
    new URL(`${fileStem(queue)}.payload.json`, dir),
    `${JSON.stringify(payloadJsonSchema(queue), null, 2)}\n`,
  );
  writeFileSync(
    new URL(`${fileStem(queue)}.result.json`, dir),
    `${JSON.stringify(resultJsonSchema(queue), null, 2)}\n`,
  );
}
console.log(`wrote ${QUEUE_NAMES.length * 2} JSON Schema files to schemas/`);
