import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readmeTables } from './readme-tables.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('the README', () => {
  it.each(Object.entries(readmeTables()))(
    'has the %s table the code generates (pnpm readme:tables)',
    (marker, table) => {
      const match = new RegExp(`<!-- ${marker}:start -->\\n([\\s\\S]*?)\\n<!-- ${marker}:end -->`).exec(readme);
      expect(match?.[1]).toBe(table);
    },
  );
});
