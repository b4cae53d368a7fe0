import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ConfigError } from '@nself-tv/service/settings';
import { type S3ServerHandle, startS3Server } from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStorage } from './file-storage.js';
import { openStorage } from './open-storage.js';
import { createS3Storage } from './s3-storage.js';
import { storageSettings } from './settings.js';
import type { MediaStorage } from './storage.js';

// One contract, two stores: the filesystem and a real S3 server (s3rver).
const work = await mkdtemp(join(tmpdir(), 'storage-contract-'));
let server: S3ServerHandle;
const stores: Record<string, MediaStorage> = {};
beforeAll(async () => {
  server = await startS3Server(['media']);
  stores.s3 = await openStorage(storageSettings.read(server.env));
  stores.file = createFileStorage({ root: join(work, 'fs') });
});
afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

const at = (key: string) => ({ bucket: 'media', key });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const drain = async (stream: Readable) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

describe.each(['file', 's3'])('%s storage contract', (name) => {
  const store = () => stores[name] as MediaStorage;

  it('writes buffers, strings and streams, and reads back exactly those bytes', async () => {
    expect(await store().write(at(`${name}/a/one.bin`), Buffer.from([1, 2, 3]))).toEqual({ bytes: 3 });
    expect(await store().write(at(`${name}/a/two.txt`), 'hello')).toEqual({ bytes: 5 });
    expect(await store().write(at(`${name}/a/b/three.txt`), Readable.from(['str', 'eam']))).toEqual({ bytes: 6 });
    expect((await store().read(at(`${name}/a/two.txt`))).toString()).toBe('hello');
    expect(await store().stat(at(`${name}/a/b/three.txt`))).toMatchObject({ bytes: 6 });
    expect((await drain(store().createReadStream(at(`${name}/a/b/three.txt`), { start: 1, end: 3 }))).toString()).toBe(
      'tre',
    );
    expect(await store().list('media', `${name}/a/`)).toEqual([
      { key: `${name}/a/b/three.txt`, bytes: 6 },
      { key: `${name}/a/one.bin`, bytes: 3 },
      { key: `${name}/a/two.txt`, bytes: 5 },
    ]);
  });

  it('streams a 12 MiB body up (in parts on S3) and down with identical bytes', async () => {
    const big = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    const pieces = [big.subarray(0, 5_000_000), big.subarray(5_000_000, 11_000_000), big.subarray(11_000_000)];
    expect(await store().write(at(`${name}/big.bin`), Readable.from(pieces))).toEqual({ bytes: big.length });
    expect(sha(await drain(store().createReadStream(at(`${name}/big.bin`))))).toBe(sha(big));
    const local = await store().localPath(at(`${name}/big.bin`));
    expect(sha(await readFile(local))).toBe(sha(big));
  });

  it('moves a finished local file in with putFile', async () => {
    const file = join(work, `${name}-out.ts`);
    await writeFile(file, 'segment bytes');
    expect(await store().putFile(at(`${name}/hls/seg_000.ts`), file)).toEqual({ bytes: 13 });
    expect(existsSync(file)).toBe(false);
    expect((await store().read(at(`${name}/hls/seg_000.ts`))).toString()).toBe('segment bytes');
  });

  it('reports a missing object as NOT_FOUND, removes idempotently, refuses a bad location', async () => {
    expect(await store().stat(at(`${name}/missing`))).toBeUndefined();
    await expect(store().read(at(`${name}/missing`))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store().localPath(at(`${name}/missing`))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(drain(store().createReadStream(at(`${name}/missing`)))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store().write(at(`${name}/gone.txt`), 'x');
    await store().remove(at(`${name}/gone.txt`));
    await store().remove(at(`${name}/gone.txt`));
    expect(await store().stat(at(`${name}/gone.txt`))).toBeUndefined();
    for (const key of ['../escape', '/abs', '', 'a\u0000b']) {
      await expect(store().read(at(key)), key).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
    }
    await expect(store().read({ bucket: 'Bad_Bucket', key: 'x' })).rejects.toMatchObject({ code: 'INVALID_LOCATION' });
  });
});

describe('s3 storage', () => {
  it('is chosen by STORAGE, and refuses settings it cannot use, naming the variable', async () => {
    const problems = (env: Record<string, string>) => {
      try {
        storageSettings.read(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.map((p) => p.variable);
      }
      return [];
    };
    expect(problems({ STORAGE: 'ftp' })).toEqual(['STORAGE']);
    expect(problems({ STORAGE: 's3', S3_ACCESS_KEY_ID: 'only-one' })).toEqual(['S3_SECRET_ACCESS_KEY']);
    expect(problems({ STORAGE: 's3', S3_ENDPOINT: 'ftp://x' })).toEqual(['S3_ENDPOINT']);
    expect(problems({ STORAGE: 's3', S3_FORCE_PATH_STYLE: 'maybe' })).toEqual(['S3_FORCE_PATH_STYLE']);
    // Every bad variable at once, not the first only.
    expect(problems({ STORAGE: 's3', S3_ENDPOINT: 'ftp://x', S3_FORCE_PATH_STYLE: 'maybe' })).toEqual([
      'S3_ENDPOINT',
      'S3_FORCE_PATH_STYLE',
    ]);
    // Credentials in the URL are refused, and never echoed.
    for (const endpoint of [
      'http://minio:s3cr3t-pass@minio:9000',
      'https://AKIAX:s3cr3t-pass@s3.example.com/',
      'ftp://u:s3cr3t-pass@x',
    ]) {
      const thrown = (() => {
        try {
          storageSettings.read({ STORAGE: 's3', S3_ENDPOINT: endpoint });
        } catch (error) {
          return (error as Error).message;
        }
        return '';
      })();
      expect(thrown, endpoint).toMatch(/^S3_ENDPOINT: expected/);
      expect(thrown).not.toContain('s3cr3t');
    }
    // Reading opens nothing; opening loads the SDK for s3 only.
    const s3 = storageSettings.read({ STORAGE: 's3', S3_REGION: 'eu-west-1' });
    expect(s3).toEqual({ kind: 's3', mediaRoot: expect.any(String), s3: { region: 'eu-west-1' } });
    expect(await openStorage(s3)).toHaveProperty('client');
    expect(await openStorage(storageSettings.read({ MEDIA_ROOT: work }))).not.toHaveProperty('client');
  });

  it('a store that does not answer is STORE_UNAVAILABLE (retried), not a missing object', async () => {
    const down = createS3Storage({
      endpoint: 'http://127.0.0.1:9',
      accessKeyId: 'x',
      secretAccessKey: 'y',
      client: undefined,
    });
    await expect(down.read(at('any.bin'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(down.stat(at('any.bin'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});

describe('s3 storage refusals', () => {
  it('an access key the store does not know is ACCESS_DENIED (final) for reads, stats and writes', async () => {
    const denied = await openStorage(storageSettings.read({ ...server.env, S3_ACCESS_KEY_ID: 'NOT-A-KNOWN-KEY' }));
    await expect(denied.read(at('any.bin'))).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(denied.stat(at('any.bin'))).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(denied.write(at('denied/new.bin'), 'x')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    // And nothing was written past the refusal.
    expect(await (stores.s3 as MediaStorage).stat(at('denied/new.bin'))).toBeUndefined();
  });
});
