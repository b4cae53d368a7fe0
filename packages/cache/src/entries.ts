import { type Keyspace, namespaceTtl } from '@nself-tv/redis-keys';
import type { z } from 'zod';
import { type SearchQuery, searchHash } from './search-key.js';

/** Per-entry behaviour. */
export interface EntryOptions {
  /**
   * Cross-process refill lock, so N processes missing the same key call the
   * loader once. `true` uses the cache's lock defaults.
   * @default false (true for recommendations)
   */
  lock?: boolean | { ttlMs?: number; waitMs?: number };
  /**
   * Keep a value this many seconds past its TTL. Within that window it is
   * stale: served when the loader fails, or at once with
   * `staleWhileRevalidate`. The key's Redis TTL is then `ttl + grace`.
   * @default 0
   */
  graceSeconds?: number;
  /** Serve a stale value at once and refresh it in the background (one refresh per key and process). @default false */
  staleWhileRevalidate?: boolean;
  /** TTL of empty results (`null`, `[]`, `{}`, or what `isEmpty` says). @default the cache's emptyTtlSeconds */
  emptyTtlSeconds?: number;
  /** What counts as empty. @default null, an empty array or an object without keys */
  isEmpty?: (value: unknown) => boolean;
  /** Use the in-process first tier for this entry when the cache has one. @default true */
  localTier?: boolean;
}

/** A cache entry: its name (the metrics label), TTL, schema and key. */
export interface EntryDefinition<T, P extends unknown[]> {
  readonly name: string;
  readonly ttlSeconds: number;
  readonly schema: z.ZodType<T>;
  readonly key: (keys: Keyspace, ...params: P) => string;
  /** SCAN patterns (or exact keys) covering every key of the entry. */
  readonly patterns: (keys: Keyspace) => string[];
  readonly options: EntryOptions;
}

/**
 * The five entries of the spec, each with its TTL, plus `custom` for others.
 * Pass the schema of the value your service stores; values read back are
 * validated with it.
 *
 * @example
 * const trending = cache.entry(entries.trending(z.array(mediaSummary)));
 * const recs = cache.entry(entries.recommendations(z.array(mediaSummary)));
 */
export const entries = {
  /** Trending content (cache trending), 15 min. */
  trending: <T>(schema: z.ZodType<T>, options: EntryOptions = {}): EntryDefinition<T, []> => ({
    name: 'trending',
    ttlSeconds: namespaceTtl('cacheTrending'),
    schema,
    key: (k) => k.cacheTrending(),
    patterns: (k) => [k.cacheTrending()],
    options,
  }),
  /** Popular content (cache popular), 1 h. */
  popular: <T>(schema: z.ZodType<T>, options: EntryOptions = {}): EntryDefinition<T, []> => ({
    name: 'popular',
    ttlSeconds: namespaceTtl('cachePopular'),
    schema,
    key: (k) => k.cachePopular(),
    patterns: (k) => [k.cachePopular()],
    options,
  }),
  /** Recently added (cache recent), 5 min. */
  recent: <T>(schema: z.ZodType<T>, options: EntryOptions = {}): EntryDefinition<T, []> => ({
    name: 'recent',
    ttlSeconds: namespaceTtl('cacheRecent'),
    schema,
    key: (k) => k.cacheRecent(),
    patterns: (k) => [k.cacheRecent()],
    options,
  }),
  /** A user's recommendations (cache recommendations, per userId), 1 h, cross-process lock on by default (expensive to compute). */
  recommendations: <T>(
    schema: z.ZodType<T>,
    options: EntryOptions = { lock: true },
  ): EntryDefinition<T, [userId: string]> => ({
    name: 'recommendations',
    ttlSeconds: namespaceTtl('cacheRecommendations'),
    schema,
    key: (k, userId) => k.cacheRecommendations(userId),
    patterns: (k) => [k.pattern('cacheRecommendations')],
    options,
  }),
  /** Search results (cache search, per query hash), 10 min; the hash comes from {@link searchHash}. */
  search: <T>(schema: z.ZodType<T>, options: EntryOptions = {}): EntryDefinition<T, [query: SearchQuery]> => ({
    name: 'search',
    ttlSeconds: namespaceTtl('cacheSearch'),
    schema,
    key: (k, query) => k.cacheSearch(searchHash(query)),
    patterns: (k) => [k.pattern('cacheSearch')],
    options,
  }),
  /** Any other entry, keyed by name and optional id through `Keyspace.cacheEntry`. */
  custom: <T>(
    name: string,
    ttlSeconds: number,
    schema: z.ZodType<T>,
    options: EntryOptions = {},
  ): EntryDefinition<T, [id?: string]> => ({
    name,
    ttlSeconds,
    schema,
    key: (k, id) => k.cacheEntry(name, id),
    patterns: (k) => [k.cacheEntry(name), `${k.cacheEntry(name)}:*`],
    options,
  }),
};
