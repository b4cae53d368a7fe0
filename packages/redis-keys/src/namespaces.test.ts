import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createKeyspace } from './keyspace.js';
import { NAMESPACES, namespaceTtl, renderNamespaceTable } from './namespaces.js';

const read = (relative: string) => readFileSync(fileURLToPath(new URL(relative, import.meta.url)), 'utf8');

describe('namespace table', () => {
  it('carries the spec TTLs', () => {
    expect(namespaceTtl('cacheTrending')).toBe(900);
    expect(namespaceTtl('cachePopular')).toBe(3600);
    expect(namespaceTtl('cacheRecent')).toBe(300);
    expect(namespaceTtl('cacheRecommendations')).toBe(3600);
    expect(namespaceTtl('cacheSearch')).toBe(600);
    expect(namespaceTtl('session')).toBe(300);
    expect(namespaceTtl('ingest')).toBe(86_400);
    expect(() => namespaceTtl('videoQueues')).toThrow(/no TTL/);
  });

  it('has one SCAN pattern per row, from the same source as the builders', () => {
    const keys = createKeyspace();
    const patterns = NAMESPACES.map((ns) => keys.pattern(ns.id));
    expect(new Set(patterns).size).toBe(NAMESPACES.length);
    for (const p of patterns) expect(p).not.toMatch(/[{}]/);
  });

  it.each([
    ['the package README', '../README.md'],
    ['the repository README', '../../../README.md'],
  ])('is what %s shows (regenerate with `pnpm readme:tables`)', (_label, path) => {
    const readme = read(path);
    const match = readme.match(/<!-- namespaces:start -->\n([\s\S]*?)\n<!-- namespaces:end -->/);
    expect(match?.[1]).toBe(renderNamespaceTable());
  });
});
