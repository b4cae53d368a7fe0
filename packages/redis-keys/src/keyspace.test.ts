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

describe('the cluster layout', () => {
  const cluster = createKeyspace({ cluster: true });
  const tagOf = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];

  it('puts every queue key under the {bull} hash tag, as BullMQ asks', () => {
    expect(cluster.queue('video:transcode')).toEqual({ prefix: '{bull}:video', name: 'transcode' });
    expect(cluster.queueKey('image:sprite', 'wait')).toBe('{bull}:image:sprite:wait');
    expect(cluster.pattern('video:subtitle')).toBe('{bull}:video:subtitle:*');
    expect(createKeyspace({ cluster: true, namespace: 't1' }).queuePrefix('video')).toBe('t1:{bull}:video');
  });

  it("gives a family's set, its devices' sets and its sessions one tag, derived from the family", () => {
    const sessionId = cluster.sessionId('fam-1', '0b9c2f57-6c1e-4c1e-9d0e-3f2a9c1b7a10');
    const tag = sessionId.split('.')[0];
    expect(tag).toMatch(/^[0-9a-f]{8}$/);
    expect(cluster.familyStreams('fam-1')).toBe(`family_streams:{${tag}}:fam-1`);
    expect(cluster.deviceStreams('dev-1', 'fam-1')).toBe(`device_streams:{${tag}}:dev-1`);
    expect(cluster.session(sessionId)).toBe(`session:{${tag}}:${sessionId}`);
    expect(tagOf(cluster.session(sessionId))).toBe(tagOf(cluster.deviceStreams('any-device', 'fam-1')));
    expect(cluster.sessionPrefixes(sessionId)).toEqual({
      session: `session:{${tag}}:`,
      familyStreams: `family_streams:{${tag}}:`,
      deviceStreams: `device_streams:{${tag}}:`,
    });
    expect(cluster.sessionPrefixes({ familyId: 'fam-1' })).toEqual(cluster.sessionPrefixes(sessionId));
    // An id that already carries the family's tag keeps it; another family's tag does not count.
    expect(cluster.sessionId('fam-1', sessionId)).toBe(sessionId);
    expect(cluster.sessionId('fam-2', sessionId)).not.toBe(sessionId);
  });

  it('refuses what cannot name a key in one slot', () => {
    expect(() => cluster.session('no-tag-here')).toThrow(InvalidIdError);
    expect(() => cluster.session('0123abcd')).toThrow(/family tag/);
    expect(() => cluster.deviceStreams('dev-1')).toThrow(/familyId/);
    expect(() => cluster.session('0123abcd.x:y')).toThrow(InvalidIdError);
  });

  it('leaves the single-instance layout exactly as the spec', () => {
    expect(keys.cluster).toBe(false);
    expect(keys.sessionId('fam-1', 'abc')).toBe('abc');
    expect(keys.deviceStreams('dev-1', 'fam-1')).toBe('device_streams:dev-1');
    expect(keys.sessionPrefixes('anything')).toEqual({
      session: 'session:',
      familyStreams: 'family_streams:',
      deviceStreams: 'device_streams:',
    });
    // Cache keys, ingests and the rest are the same in both layouts.
    expect(cluster.cacheRecent()).toBe(keys.cacheRecent());
    expect(cluster.ingest('i1')).toBe(keys.ingest('i1'));
  });
});
