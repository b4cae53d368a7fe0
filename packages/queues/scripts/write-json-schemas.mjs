// Writes the JSON Schema files shipped in schemas/ from the built package,
// each under the file name its `$id` gives it.
// The schemas test fails when the files and the zod schemas disagree.
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  ingestRequestJsonSchema,
  ingestStateJsonSchema,
  payloadJsonSchema,
  QUEUE_NAMES,
  resultJsonSchema,
} from '../dist/index.js';

const dir = new URL('../schemas/', import.meta.url);
mkdirSync(dir, { recursive: true });
const schemas = [
  ...QUEUE_NAMES.flatMap((queue) => [payloadJsonSchema(queue), resultJsonSchema(queue)]),
  ingestRequestJsonSchema(),
  ingestStateJsonSchema(),
];
for (const schema of schemas) {
  const file = new URL(schema.$id).pathname.split('/').pop();
  writeFileSync(new URL(file, dir), `${JSON.stringify(schema, null, 2)}\n`);
}
console.log(`wrote ${schemas.length} JSON Schema files to schemas/`);
