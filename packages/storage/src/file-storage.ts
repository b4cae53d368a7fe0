import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, type Dirent } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError } from './errors.js';
import { bucketProblem, keyProblem, TEMP_MARK } from './location-rules.js';
import type { MediaStorage, StorageLocation, StoredObject } from './storage.js';

/** Options of {@link createFileStorage}. */
export interface FileStorageOptions {
  /** The folder that holds one folder per bucket (`MEDIA_ROOT`). */
  root: string;
}

/**
 * Checks a location by the shared rules and returns its path under `root`.
 * This is the lexical check only; the store also confines every access by
 * real path, so a symbolic link cannot lead outside the bucket.
 */
export function resolveLocation(root: string, location: StorageLocation): string {
  const { bucket, key } = location;
  const bad = bucketProblem(bucket);
  if (bad) throw new StorageError('INVALID_LOCATION', `bucket '${String(bucket)}': ${bad}`);
  const problem = keyProblem(key);
  if (problem) throw new StorageError('INVALID_LOCATION', `key '${String(key)}': ${problem}`);
  const base = resolve(root, bucket);
  const path = resolve(base, key);
  const inside = relative(base, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new StorageError('INVALID_LOCATION', `key '${key}' leaves its bucket`);
  }
  return path;
}

const tempNameFor = (path: string) => join(dirname(path), `${TEMP_MARK}${randomBytes(6).toString('hex')}`);
const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * The default store: `<root>/<bucket>/<key>` on the local filesystem. Every
 * read, write, listing and removal is confined by real path: a symbolic link
 * whose target is outside `<root>/<bucket>` is refused (`INVALID_LOCATION`),
 * and folders are created one level at a time so `mkdir` never follows a link
 * out of the bucket. The root itself may be a link (a mounted volume).
 */
export function createFileStorage(options: FileStorageOptions): MediaStorage {
  const root = resolve(options.root);
  let realRoot: string | undefined;
  const rootReal = async () => {
    realRoot ??= await realpath(root);
    return realRoot;
  };

  const where = (location: StorageLocation) => `${location.bucket}/${location.key}`;
  const missing = (location: StorageLocation, cause?: unknown): never => {
    throw new StorageError('NOT_FOUND', `${where(location)} does not exist`, { cause });
  };
  const escapes = (what: string): never => {
    throw new StorageError('INVALID_LOCATION', `${what} leaves its bucket through a symbolic link`);
  };

  /** The real bucket folder: `<real root>/<bucket>`; a bucket that is itself a link is refused. */
  const bucketReal = async (bucket: string) => join(await rootReal(), bucket);
  const assertInside = (real: string, bucketDir: string, what: string) => {
    if (real !== bucketDir && !real.startsWith(`${bucketDir}${sep}`)) escapes(what);
  };

  /** The real path of an existing object, confined to its bucket; `undefined` when missing. */
  async function existingReal(location: StorageLocation): Promise<string | undefined> {
    const path = resolveLocation(root, location);
    let real: string;
    try {
      real = await realpath(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    const bucketDir = await bucketReal(location.bucket);
    assertInside(real, bucketDir, where(location));
    if (location.within !== undefined) {
      // The lexical folder under the real bucket: a folder that is itself a link counts as leaving.
      if (!location.key.startsWith(location.within)) escapes(where(location));
      const scope = join(bucketDir, ...location.within.split('/').filter(Boolean));
      if (!real.startsWith(`${scope}${sep}`)) {
        throw new StorageError(
          'INVALID_LOCATION',
          `${where(location)} leaves ${location.within} through a symbolic link`,
        );
      }
    }
    return real;
  }

  /** The real path of an existing regular file, or NOT_FOUND. */
  async function fileReal(location: StorageLocation): Promise<string> {
    const real = await existingReal(location);
    if (!real) return missing(location);
    if (!(await stat(real)).isFile()) return missing(location);
    return real;
  }

  /**
   * Creates the object's folder one segment at a time, refusing any segment
   * that is (or leads through) a link out of the bucket, and returns the path
   * the object will have inside that real folder.
   */
  async function writablePath(location: StorageLocation): Promise<string> {
    resolveLocation(root, location);
    await mkdir(root, { recursive: true });
    const bucketDir = await bucketReal(location.bucket);
    await mkdir(bucketDir, { recursive: false }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    if ((await lstat(bucketDir)).isSymbolicLink()) escapes(location.bucket);
    let dir = bucketDir;
    const segments = location.key.split('/');
    for (const segment of segments.slice(0, -1)) {
      const next = join(dir, segment);
      try {
        await mkdir(next);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      dir = await realpath(next);
      assertInside(dir, bucketDir, where(location));
    }
    return join(dir, segments.at(-1) as string);
  }

  async function commit(temp: string, path: string) {
    try {
      // rename replaces a link at `path` itself; it never writes through it.
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  return {
    async stat(location) {
      const real = await existingReal(location);
      if (!real) return undefined;
      const s = await stat(real);
      return s.isFile() ? { bytes: s.size, modifiedMs: Math.floor(s.mtimeMs) } : undefined;
    },
    async read(location) {
      const real = await fileReal(location);
      // O_NOFOLLOW: a link swapped in after the check is not followed either.
      const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },
    createReadStream(location, range) {
      const out = new PassThrough();
      fileReal(location)
        .then((real) => open(real, constants.O_RDONLY | constants.O_NOFOLLOW))
        .then((handle) => pipeline(handle.createReadStream(range ? { start: range.start, end: range.end } : {}), out))
        .catch((error: unknown) => out.destroy(error as Error));
      return out;
    },
    localPath: (location) => fileReal(location),
    async write(location, data) {
      const path = await writablePath(location);
      const temp = tempNameFor(path);
      try {
        const source = typeof data === 'string' || Buffer.isBuffer(data) ? Readable.from([data]) : data;
        await pipeline(source, createWriteStream(temp, { flags: 'wx' }));
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      const { size } = await stat(temp);
      await commit(temp, path);
      return { bytes: size };
    },
    async putFile(location, localFile) {
      const path = await writablePath(location);
      const temp = tempNameFor(path);
      try {
        await rename(localFile, temp);
      } catch {
        // Another filesystem: copy to the temp name first, so the final rename stays atomic.
        await copyFile(localFile, temp, constants.COPYFILE_EXCL);
        await unlink(localFile).catch(() => undefined);
      }
      const { size } = await stat(temp);
      await commit(temp, path);
      return { bytes: size };
    },
    async list(bucket, prefix) {
      const bucketPath = resolve(root, bucket);
      const folder =
        prefix === '' ? bucketPath : dirname(resolveLocation(root, { bucket, key: `${prefix.replace(/\/$/, '')}/x` }));
      let start: string;
      try {
        start = await realpath(folder);
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
      const bucketDir = await bucketReal(bucket);
      assertInside(start, bucketDir, `${bucket}/${prefix}`);
      const out: StoredObject[] = [];
      // Dirent types do not follow links: a link is neither a folder nor a file here, so it is skipped.
      const walk = async (dir: string) => {
        let entries: Dirent[];
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch {
          return;
        }
        for (const entry of entries) {
          const full = join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else if (entry.isFile() && !entry.name.startsWith(TEMP_MARK)) {
            const key = relative(bucketDir, full).split(sep).join('/');
            if (key.startsWith(prefix)) out.push({ key, bytes: (await stat(full)).size });
          }
        }
      };
      await walk(start);
      return out.sort((a, b) => a.key.localeCompare(b.key));
    },
    async remove(location) {
      const path = resolveLocation(root, location);
      let parent: string;
      try {
        parent = await realpath(dirname(path));
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      assertInside(parent, await bucketReal(location.bucket), where(location));
      // rm of a link removes the link, never its target.
      await rm(join(parent, location.key.split('/').at(-1) as string), { force: true });
    },
  };
}
