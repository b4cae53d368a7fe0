import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError } from './errors.js';
import type { MediaStorage, StorageLocation, StoredObject } from './storage.js';

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Temporary files start with this and never look like a finished object. */
const TEMP_MARK = '.partial-';

/** Options of {@link createFileStorage}. */
export interface FileStorageOptions {
  /** The folder that holds one folder per bucket (`MEDIA_ROOT`). */
  root: string;
}

/**
 * Checks a location and returns its path under `root`. Keys are relative,
 * without `.`/`..` segments, backslashes or control characters; the resolved
 * path must stay inside `<root>/<bucket>`.
 */
export function resolveLocation(root: string, location: StorageLocation): string {
  const { bucket, key } = location;
  if (typeof bucket !== 'string' || !BUCKET.test(bucket)) {
    throw new StorageError('INVALID_LOCATION', `bucket '${String(bucket)}' is not a valid bucket name`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  if (typeof key !== 'string' || key === '' || isAbsolute(key) || /[\u0000-\u001f\u007f\\]/.test(key)) {
    throw new StorageError(
      'INVALID_LOCATION',
      `key '${String(key)}' must be a relative path without control characters`,
    );
  }
  if (key.split('/').some((s) => s === '..' || s === '.' || s === '' || s.startsWith(TEMP_MARK))) {
    throw new StorageError('INVALID_LOCATION', `key '${key}' must not contain empty, '.' or '..' segments`);
  }
  const base = resolve(root, bucket);
  const path = resolve(base, key);
  const inside = relative(base, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new StorageError('INVALID_LOCATION', `key '${key}' leaves its bucket`);
  }
  return path;
}

const tempNameFor = (path: string) => join(dirname(path), `${TEMP_MARK}${randomBytes(6).toString('hex')}`);

/** The default store: `<root>/<bucket>/<key>` on the local filesystem. */
export function createFileStorage(options: FileStorageOptions): MediaStorage {
  const root = resolve(options.root);
  const pathOf = (location: StorageLocation) => resolveLocation(root, location);

  const missing = (location: StorageLocation, cause: unknown): never => {
    throw new StorageError('NOT_FOUND', `${location.bucket}/${location.key} does not exist`, { cause });
  };

  async function commit(temp: string, path: string) {
    try {
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  return {
    async stat(location) {
      const path = pathOf(location);
      try {
        const s = await stat(path);
        return s.isFile() ? { bytes: s.size } : undefined;
      } catch {
        return undefined;
      }
    },
    async read(location) {
      const path = pathOf(location);
      try {
        return await readFile(path);
      } catch (error) {
        return missing(location, error);
      }
    },
    createReadStream: (location) => createReadStream(pathOf(location)),
    async localPath(location) {
      const path = pathOf(location);
      try {
        if (!(await stat(path)).isFile()) throw new Error('not a file');
      } catch (error) {
        return missing(location, error);
      }
      return path;
    },
    async write(location, data) {
      const path = pathOf(location);
      await mkdir(dirname(path), { recursive: true });
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
      const path = pathOf(location);
      await mkdir(dirname(path), { recursive: true });
      const temp = tempNameFor(path);
      try {
        await rename(localFile, temp);
      } catch {
        // Another filesystem: copy to the temp name first, so the final rename stays atomic.
        await copyFile(localFile, temp);
        await unlink(localFile).catch(() => undefined);
      }
      const { size } = await stat(temp);
      await commit(temp, path);
      return { bytes: size };
    },
    async list(bucket, prefix) {
      const folder =
        prefix === '' ? resolve(root, bucket) : dirname(pathOf({ bucket, key: `${prefix.replace(/\/$/, '')}/x` }));
      const out: StoredObject[] = [];
      const walk = async (dir: string) => {
        let entries: import('node:fs').Dirent[];
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch {
          return;
        }
        for (const entry of entries) {
          const full = join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else if (entry.isFile() && !entry.name.startsWith(TEMP_MARK)) {
            const key = relative(resolve(root, bucket), full).split(sep).join('/');
            if (key.startsWith(prefix)) out.push({ key, bytes: (await stat(full)).size });
          }
        }
      };
      await walk(folder);
      return out.sort((a, b) => a.key.localeCompare(b.key));
    },
    async remove(location) {
      await rm(pathOf(location), { force: true });
    },
  };
}
