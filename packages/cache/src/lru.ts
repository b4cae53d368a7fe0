/**
 * A small in-process LRU with a per-entry expiry, for the optional first tier.
 * Map keeps insertion order, so re-inserting on read makes the first key the
 * least recently used.
 */
export class LocalTier {
  private readonly map = new Map<string, { value: unknown; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get(key: string): { value: unknown } | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, hit);
    return hit;
  }

  set(key: string, value: unknown, ttlMs = this.ttlMs): void {
    this.map.delete(key);
    this.map.set(key, { value, expiresAt: Date.now() + Math.min(ttlMs, this.ttlMs) });
    if (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** Deletes every key starting with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of this.map.keys()) if (key.startsWith(prefix)) this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
