import { createHash } from 'node:crypto';
import { safeIdSchema } from '@nself-tv/redis-keys';
import { CacheError } from './errors.js';

/** A library search as the cache keys it. `familyId` is required so families never share results. */
export interface SearchQuery {
  familyId: string;
  /** The text query: trimmed, inner whitespace collapsed and lower-cased before hashing. */
  q?: string | undefined;
  /** Filters, sort, page…: any JSON values. Strings are trimmed; object keys are sorted. */
  [field: string]: unknown;
}

const TEXT_FIELDS = new Set(['q', 'query', 'text']);

function normalise(value: unknown, field: string | undefined): unknown {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return field !== undefined && TEXT_FIELDS.has(field) ? trimmed.replace(/\s+/g, ' ').toLowerCase() : trimmed;
  }
  if (Array.isArray(value)) return value.map((v) => normalise(v, undefined));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalise(v, key);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new CacheError('INVALID_SEARCH_QUERY', 'search query numbers must be finite');
  }
  return value;
}

/** The canonical JSON of a search query: normalised values, keys sorted at every level. */
export function canonicalSearchJson(query: SearchQuery): string {
  const family = safeIdSchema.safeParse(query.familyId);
  if (!family.success) {
    throw new CacheError('INVALID_SEARCH_QUERY', `familyId: ${family.error.issues[0]?.message ?? 'invalid'}`);
  }
  return JSON.stringify(normalise(query, undefined));
}

/**
 * The hash part of a search cache key: sha256 (hex) of the canonical JSON.
 * Equal queries written differently (key order, surrounding whitespace, case
 * of the text query) hash the same; different families never do.
 */
export function searchHash(query: SearchQuery): string {
  return createHash('sha256').update(canonicalSearchJson(query)).digest('hex');
}
