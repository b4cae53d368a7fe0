// Writes the JSON Schema files shipped in schemas/ from the built package,
// each under the file name its `$id` gives it.
// The schemas test fails when the files and the zod schemas disagree.
import { mkdirSync, writeFileSync } from 'node:fs';
import { payloadJsonSchema, QUEUE_NAMES, resultJsonSchema } from '../dist/index.js';

const dir = new URL('../schemas/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const queue of QUEUE_NAMES) {
  for (const schema of [payloadJsonSchema(queue), resultJsonSchema(queue)]) {
    const file = new URL(schema.$id).pathname.split('/').pop();
    writeFileSync(new URL(file, dir), `${JSON.stringify(schema, null, 2)}\n`);
  }
}
console.log(`wrote ${QUEUE_NAMES.length * 2} JSON Schema files to schemas/`);
