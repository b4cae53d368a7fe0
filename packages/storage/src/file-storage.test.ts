import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from './errors.js';
import { createFileStorage } from './file-storage.js';
import { KEY_PATTERN, keyProblem, PREFIX_PATTERN, prefixProblem } from './location-rules.js';
import { sweepStaleTempDirs, withTempDir } from './temp-dir.js';

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
    expect(await store.stat(at('a/b/three.txt'))).toEqual({ bytes: 6, modifiedMs: expect.any(Number) });
    const part: Buffer[] = [];
    for await (const chunk of store.createReadStream(at('a/b/three.txt'), { start: 1, end: 3 })) part.push(chunk);
    expect(Buffer.concat(part).toString()).toBe('tre');
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
    ['trailing slash', { bucket: 'media', key: 'x/y/' }],
    ['temporary-file segment', { bucket: 'media', key: '.partial-x/v.mp4' }],
    ['segment over 255 bytes', { bucket: 'media', key: `a/${'s'.repeat(300)}.mp4` }],
    ['key over 1024 bytes', { bucket: 'media', key: 'é/'.repeat(350) + 'v.mp4' }],
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

describe('symbolic links', () => {
  // A folder beside the root that nothing inside the root may reach.
  const outside = `${root}-outside`;
  afterAll(() => rm(outside, { recursive: true, force: true }));

  it('never reads, writes, lists or removes through a link that leaves the bucket', async () => {
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'secret.srt'), '1\n00:00:00,000 --> 00:00:01,000\nsecret\n');
    await mkdir(join(root, 'media', 'planted'), { recursive: true });
    await symlink(join(outside, 'secret.srt'), join(root, 'media', 'planted', 'subs.srt'));
    await symlink(outside, join(root, 'media', 'planted', 'out'));
    // Another bucket is outside this one, too.
    await store.write({ bucket: 'other', key: 'private.txt' }, 'other family');
    await symlink(join(root, 'other', 'private.txt'), join(root, 'media', 'planted', 'cross.txt'));

    for (const key of ['planted/subs.srt', 'planted/out/secret.srt', 'planted/cross.txt']) {
      await expect(store.read(at(key))).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
      await expect(store.localPath(at(key))).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
      await expect(store.stat(at(key))).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
      const stream = store.createReadStream(at(key));
      await expect(new Promise((ok, fail) => stream.on('data', ok).on('error', fail))).rejects.toMatchObject({
        code: 'INVALID_LOCATION',
      });
    }
    await expect(store.write(at('planted/out/new/x.txt'), 'x')).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
    await expect(store.write(at('planted/out/x.txt'), 'x')).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
    await withTempDir('put', async (dir) => {
      await writeFile(join(dir, 'f'), 'x');
      await expect(store.putFile(at('planted/out/seg.ts'), join(dir, 'f'))).rejects.toMatchObject({
        code: 'INVALID_LOCATION',
      });
    });
    await expect(store.remove(at('planted/out/secret.srt'))).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
    await expect(store.list('media', 'planted/out/')).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
    // Listing the folder skips the links instead of following them.
    expect(await store.list('media', 'planted/')).toEqual([]);
    // Overwriting a link replaces the link, not its target.
    await store.write(at('planted/subs.srt'), 'replaced');
    expect((await store.read(at('planted/subs.srt'))).toString()).toBe('replaced');

    expect(await readdir(outside)).toEqual(['secret.srt']);
    expect(await readFile(join(outside, 'secret.srt'), 'utf8')).toContain('secret');
    expect(await readFile(join(root, 'other', 'private.txt'), 'utf8')).toBe('other family');
  });

  it('keeps a read inside `within`: a link from one media item into another is refused', async () => {
    await store.write(at('library/b/r720/seg_000.ts'), 'b’s segment');
    await store.write(at('library/a/r720/own.ts'), 'a’s segment');
    await mkdir(join(root, 'media', 'library', 'a', 'r720'), { recursive: true });
    await symlink(
      join(root, 'media', 'library', 'b', 'r720', 'seg_000.ts'),
      join(root, 'media', 'library', 'a', 'r720', 'seg_000.ts'),
    );
    await symlink(join(root, 'media', 'library', 'b'), join(root, 'media', 'library', 'a', 'b-folder'));
    await symlink(join(root, 'media', 'library', 'b'), join(root, 'media', 'library', 'linked-item'));
    const inA = (key: string) => ({ bucket: 'media', key: `library/a/${key}`, within: 'library/a/' });
    for (const key of ['r720/seg_000.ts', 'b-folder/r720/seg_000.ts']) {
      await expect(store.read(inA(key))).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
      await expect(store.stat(inA(key))).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
      const stream = store.createReadStream(inA(key));
      await expect(new Promise((ok, fail) => stream.on('data', ok).on('error', fail))).rejects.toMatchObject({
        code: 'INVALID_LOCATION',
      });
      // Without `within` the bucket is the only fence: the same link is followed.
      expect((await store.read(at(`library/a/${key}`))).toString()).toBe('b’s segment');
    }
    // An item folder that is itself a link leads elsewhere too.
    await expect(
      store.read({ bucket: 'media', key: 'library/linked-item/r720/seg_000.ts', within: 'library/linked-item/' }),
    ).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
    // A key outside its own `within`, and the item's own files.
    await expect(store.read({ ...inA('x'), key: 'library/b/r720/seg_000.ts' })).rejects.toMatchObject({
      code: 'INVALID_LOCATION',
    });
    expect((await store.read(inA('r720/own.ts'))).toString()).toBe('a’s segment');
  });

  it('refuses a bucket that is itself a link, and follows links that stay inside the bucket', async () => {
    await symlink(outside, join(root, 'linked'));
    await expect(store.read({ bucket: 'linked', key: 'secret.srt' })).rejects.toMatchObject({
      code: 'INVALID_LOCATION',
    });
    await expect(store.write({ bucket: 'linked', key: 'x' }, 'x')).rejects.toMatchObject({
      code: 'INVALID_LOCATION',
    });
    await store.write(at('inside/real.txt'), 'inside');
    await symlink(join(root, 'media', 'inside', 'real.txt'), join(root, 'media', 'inside', 'alias.txt'));
    expect((await store.read(at('inside/alias.txt'))).toString()).toBe('inside');
  });
});

describe('location rules', () => {
  it.each([
    ['x//y/', 'empty segments'],
    ['.partial-x/', ".partial-'"],
    [`${'s'.repeat(300)}/`, '255 bytes'],
    ['/abs/', 'empty segments'],
    ['a/../b/', "'..'"],
    ['p'.repeat(1000), '960 bytes'],
  ])('prefix %j is refused (%s)', (prefix, why) => {
    expect(prefixProblem(prefix)).toContain(why);
  });

  it('accepts what the workers write', () => {
    expect(prefixProblem('')).toBeUndefined();
    expect(prefixProblem('hls/m1/')).toBeUndefined();
    expect(prefixProblem('hls/m1')).toBeUndefined();
    expect(keyProblem('uploads/Film (2019) – Director’s Cut.mkv')).toBeUndefined();
    expect(keyProblem('a//v.mp4')).toContain('empty segments');
  });

  it('KEY_PATTERN and PREFIX_PATTERN (for JSON Schema) agree with the checks', () => {
    const keys = [
      'a',
      'a/b.mp4',
      'a//b',
      '/a',
      'a/',
      '.',
      'a/..',
      '..a/b',
      'a/.b',
      '.partial-1',
      'x/.partial-y/z',
      'a\\b',
    ];
    for (const key of [...keys, 'a\u0001b', 'résumé/ép 1.mkv', '...', 'a/...']) {
      expect(KEY_PATTERN.test(key), key).toBe(keyProblem(key) === undefined);
      for (const prefix of [key, `${key}/`]) {
        expect(PREFIX_PATTERN.test(prefix), prefix).toBe(prefixProblem(prefix) === undefined);
      }
    }
    expect(PREFIX_PATTERN.test('')).toBe(true);
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

describe('sweepStaleTempDirs', () => {
  it('removes the folders of dead processes and keeps those of live ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sweep-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await mkdir(join(dir, `nself-${dead}-transcode-abc123`));
    await writeFile(join(dir, `nself-${dead}-transcode-abc123`, 'seg_000.ts'), 'x');
    await mkdir(join(dir, `nself-${process.pid}-trickplay-def456`));
    await mkdir(join(dir, `nself-1-sprite-ghi789`));
    await mkdir(join(dir, 'someone-else'));
    expect(await sweepStaleTempDirs(dir)).toEqual([`nself-${dead}-transcode-abc123`]);
    expect((await readdir(dir)).sort()).toEqual(
      [`nself-${process.pid}-trickplay-def456`, 'nself-1-sprite-ghi789', 'someone-else'].sort(),
    );
    await rm(dir, { recursive: true, force: true });
  });
});
