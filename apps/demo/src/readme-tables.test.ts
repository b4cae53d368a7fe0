import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readmeTables } from './readme-tables.js';

const cases = readmeTables().flatMap(({ marker, table, files }) => files.map((file) => [file, marker, table] as const));

describe('the READMEs', () => {
  it.each(cases)('%s has the %s table the code generates (pnpm readme:tables)', (file, marker, table) => {
    const text = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
    const match = new RegExp(`<!-- ${marker}:start -->\\n([\\s\\S]*?)\\n<!-- ${marker}:end -->`).exec(text);
    expect(match?.[1]).toBe(table);
  });
});
