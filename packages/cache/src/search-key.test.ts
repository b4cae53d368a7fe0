import { describe, expect, it } from 'vitest';
import { CacheError } from './errors.js';
import { canonicalSearchJson, searchHash } from './search-key.js';

describe('searchHash', () => {
  it('gives equal queries written differently the same hash', () => {
    const a = searchHash({ familyId: 'fam-1', q: '  Star   Wars ', filters: { year: 1977, genre: 'scifi' }, page: 1 });
    const b = searchHash({ page: 1, filters: { genre: ' scifi ', year: 1977 }, q: 'star wars', familyId: 'fam-1' });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalSearchJson({ q: ' B ', familyId: 'f', a: undefined })).toBe('{"familyId":"f","q":"b"}');
  });

  it('never shares a hash across families or different queries', () => {
    const base = { q: 'star wars' };
    expect(searchHash({ ...base, familyId: 'fam-1' })).not.toBe(searchHash({ ...base, familyId: 'fam-2' }));
    expect(searchHash({ familyId: 'f', q: 'star wars' })).not.toBe(searchHash({ familyId: 'f', q: 'star trek' }));
    expect(searchHash({ familyId: 'f', q: 'x', page: 1 })).not.toBe(searchHash({ familyId: 'f', q: 'x', page: 2 }));
  });

  it('requires a safe familyId', () => {
    for (const familyId of ['', 'a:b', undefined]) {
      expect(() => searchHash({ familyId } as never)).toThrow(CacheError);
    }
  });
});
