import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from './errors.js';
import { createFileStorage } from './file-storage.js';
import { withTempDir } from './temp-dir.js';

const root = await mkdtemp(join(tmpdir(), 'storage-test-'));
afterAll(() => rm(root, { recursive: true, force: true }));
const store = createFileStorage({ root });
const at = (key: string) => ({ bucket: 'media', key });

describe('file storage', () => {
  it('writes and reads buffers, strings and streams under <root>/<bucket>/<key>', async () => {
    expect(await store.write(at('a/one.bin'), Buffer.from([1, 2, 3]))).toEqual({ bytes: 3 });
    await store.write(at('a/two.txt'), 'hello');
    await store.write(at('a/b/three.txt'), Readable.from(['str', 'eam']));
    expect(existsSync(join(root, 'media', 'a', 'b', 'three.txt'))).toBe(true);
    expect((await store.read(at('a/two.txt'))).toString()).toBe('hello');
    expect(await store.stat(at('a/b/three.txt'))).toEqual({ bytes: 6 });
    expect(await store.stat(at('a/missing'))).toBeUndefined();
    expect(await store.localPath(at('a/one.bin'))).toBe(join(root, 'media', 'a', 'one.bin'));
    expect(await store.list('media', 'a/')).toEqual([
      { key: 'a/b/three.txt', bytes: 6 },
      { key: 'a/one.bin', bytes: 3 },
      { key: 'a/two.txt', bytes: 5 },
    ]);
    expect((await store.list('media', 'a/b/')).map((o) => o.key)).toEqual(['a/b/three.txt']);
    await store.remove(at('a/two.txt'));
    await store.remove(at('a/two.txt'));
    expect(await store.stat(at('a/two.txt'))).toBeUndefined();
  });

  it('never shows a partial object: the final name appears only when the write is complete', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* slow() {
      yield Buffer.from('first half ');
      await gate;
      yield Buffer.from('second half');
    }
    const writing = store.write(at('atomic/out.ts'), Readable.from(slow()));
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.stat(at('atomic/out.ts'))).toBeUndefined();
    expect(await store.list('media', 'atomic/')).toEqual([]);
    release();
    await writing;
    expect((await store.read(at('atomic/out.ts'))).toString()).toBe('first half second half');
  });

  it('leaves nothing behind when a write fails midway', async () => {
    async function* broken() {
      yield Buffer.from('some bytes');
      throw new Error('source died');
    }
    await expect(store.write(at('broken/out.bin'), Readable.from(broken()))).rejects.toThrow('source died');
    expect(await readdir(join(root, 'media', 'broken'))).toEqual([]);
  });

  it('moves a finished local file in atomically', async () => {
    await withTempDir('put', async (dir) => {
      const file = join(dir, 'segment.ts');
      await writeFile(file, 'segment');
      expect(await store.putFile(at('hls/m1/720p/seg_000.ts'), file)).toEqual({ bytes: 7 });
      expect(existsSync(file)).toBe(false);
    });
    expect((await store.read(at('hls/m1/720p/seg_000.ts'))).toString()).toBe('segment');
  });

  it.each([
    ['parent segment', { bucket: 'media', key: '../etc/passwd' }],
    ['nested parent segment', { bucket: 'media', key: 'a/../../b' }],
    ['absolute key', { bucket: 'media', key: '/etc/passwd' }],
    ['dot segment', { bucket: 'media', key: 'a/./b' }],
    ['empty segment', { bucket: 'media', key: 'a//b' }],
    ['empty key', { bucket: 'media', key: '' }],
    ['backslash', { bucket: 'media', key: 'a\\..\\b' }],
    ['control character', { bucket: 'media', key: 'a\nb' }],
    ['bucket traversal', { bucket: '..', key: 'x' }],
    ['bad bucket', { bucket: 'Media', key: 'x' }],
  ])('rejects a %s with INVALID_LOCATION', async (_label, location) => {
    const error = await store.read(location).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('INVALID_LOCATION');
    await expect(store.write(location, 'x')).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
  });

  it('reports a missing object as NOT_FOUND', async () => {
    await expect(store.read(at('nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.localPath(at('nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('withTempDir', () => {
  it('removes the folder after success and after a failure', async () => {
    let kept = '';
    await withTempDir('ok', async (dir) => {
      kept = dir;
      await writeFile(join(dir, 'f'), 'x');
    });
    expect(existsSync(kept)).toBe(false);
    await expect(
      withTempDir('fail', async (dir) => {
        kept = dir;
        throw new Error('ffmpeg failed');
      }),
    ).rejects.toThrow('ffmpeg failed');
    expect(existsSync(kept)).toBe(false);
  });
});
