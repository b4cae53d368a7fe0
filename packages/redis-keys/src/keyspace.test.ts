import { describe, expect, it } from 'vitest';
import { InvalidIdError } from './errors.js';
import { createKeyspace } from './keyspace.js';
import { QUEUE_NAMES } from './queues.js';

const keys = createKeyspace();
const hash = 'a'.repeat(64);

describe('createKeyspace without namespace: keys exactly as the spec', () => {
  it('builds the fixed and per-id keys', () => {
    expect(keys.cacheTrending()).toBe('cache:trending');
    expect(keys.cachePopular()).toBe('cache:popular');
    expect(keys.cacheRecent()).toBe('cache:recent');
    expect(keys.cacheRecommendations('u1')).toBe('cache:recommendations:u1');
    expect(keys.cacheSearch(hash)).toBe(`cache:search:${hash}`);
    expect(keys.session('s1')).toBe('session:s1');
    expect(keys.familyStreams('f1')).toBe('family_streams:f1');
    expect(keys.deviceStreams('d1')).toBe('device_streams:d1');
    expect(keys.ingest('i1')).toBe('ingest:i1');
    expect(keys.cacheEntry('genres')).toBe('cache:genres');
    expect(keys.cacheEntry('continue-watching', 'u1')).toBe('cache:continue-watching:u1');
    expect(keys.cacheLock('cache:recommendations:u1')).toBe('cache:recommendations:u1:lock');
    expect(keys.cacheInvalidationChannel()).toBe('cache:invalidate');
    expect(() => keys.cacheLock('session:s1')).toThrow(InvalidIdError);
  });

  it('splits every queue into a BullMQ prefix and a colon-free name', () => {
    const located = QUEUE_NAMES.map((q) => [q, keys.queue(q)]);
    expect(Object.fromEntries(located)).toEqual({
      'video:transcode': { prefix: 'bull:video', name: 'transcode' },
      'video:trickplay': { prefix: 'bull:video', name: 'trickplay' },
      'video:subtitle': { prefix: 'bull:video', name: 'subtitle' },
      'image:poster': { prefix: 'bull:image', name: 'poster' },
      'image:sprite': { prefix: 'bull:image', name: 'sprite' },
      'image:optimize': { prefix: 'bull:image', name: 'optimize' },
    });
    expect(keys.queueKey('video:transcode', 'wait')).toBe('bull:video:transcode:wait');
    expect(keys.queueKey('image:optimize', 'failed')).toBe('bull:image:optimize:failed');
    expect(keys.queuePrefix('image')).toBe('bull:image');
  });

  it('gives SCAN patterns for every namespace', () => {
    expect(keys.pattern('cache')).toBe('cache:*');
    expect(keys.pattern('cacheRecommendations')).toBe('cache:recommendations:*');
    expect(keys.pattern('cacheSearch')).toBe('cache:search:*');
    expect(keys.pattern('cacheTrending')).toBe('cache:trending');
    expect(keys.pattern('session')).toBe('session:*');
    expect(keys.pattern('familyStreams')).toBe('family_streams:*');
    expect(keys.pattern('deviceStreams')).toBe('device_streams:*');
    expect(keys.pattern('ingest')).toBe('ingest:*');
    expect(keys.pattern('videoQueues')).toBe('bull:video:*');
    expect(keys.pattern('imageQueues')).toBe('bull:image:*');
    expect(keys.pattern('video:subtitle')).toBe('bull:video:subtitle:*');
    expect(keys.prefix('session')).toBe('session:');
    expect(keys.prefix('deviceStreams')).toBe('device_streams:');
    expect(createKeyspace({ namespace: 'n' }).prefix('familyStreams')).toBe('n:family_streams:');
  });

  it('rejects ids that could collide or widen a pattern', () => {
    for (const build of [
      () => keys.session('a:b'),
      () => keys.familyStreams('*'),
      () => keys.deviceStreams(''),
      () => keys.ingest('x y'),
      () => keys.cacheRecommendations('u[1]'),
      () => keys.cacheEntry('bad:name'),
      () => keys.cacheEntry('ok', '{tag}'),
      () => keys.queueKey('video:transcode', 'wait:x'),
    ]) {
      expect(build).toThrow(InvalidIdError);
    }
  });

  it('accepts only lowercase hex sha256 as a search hash', () => {
    expect(() => keys.cacheSearch('A'.repeat(64))).toThrow(/sha256/);
    expect(() => keys.cacheSearch('a'.repeat(63))).toThrow(InvalidIdError);
    expect(() => keys.cacheSearch(`${'a'.repeat(63)}*`)).toThrow(InvalidIdError);
  });
});

describe('createKeyspace with a namespace', () => {
  const ns = createKeyspace({ namespace: 'tenant-1' });

  it('prefixes every key, BullMQ prefixes and patterns included', () => {
    expect(ns.namespace).toBe('tenant-1');
    expect(ns.session('s1')).toBe('tenant-1:session:s1');
    expect(ns.cacheTrending()).toBe('tenant-1:cache:trending');
    expect(ns.queue('video:transcode')).toEqual({ prefix: 'tenant-1:bull:video', name: 'transcode' });
    expect(ns.queueKey('image:poster', 'wait')).toBe('tenant-1:bull:image:poster:wait');
    expect(ns.pattern('session')).toBe('tenant-1:session:*');
    expect(ns.pattern('image:sprite')).toBe('tenant-1:bull:image:sprite:*');
  });

  it('rejects a namespace that breaks the id rule', () => {
    expect(() => createKeyspace({ namespace: 'a:b' })).toThrow(InvalidIdError);
    expect(() => createKeyspace({ namespace: '*' })).toThrow(/namespace/);
  });
});
