import type { Readable } from 'node:stream';

/** Where a stored object is. Never a URL. */
export interface StorageLocation {
  readonly bucket: string;
  readonly key: string;
  /**
   * A key prefix (ending in `/`) the object must stay inside, by real path too: a symbolic link
   * planted under one media item's folder cannot lead into another's. Reads only; the key must
   * start with it. @default the whole bucket
   */
  readonly within?: string;
}

/** An object found by {@link MediaStorage.list}. */
export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
}

/**
 * What the media workers need from a store. The filesystem store is the
 * default; an S3-compatible store implements the same interface, so
 * processors never change.
 */
export interface MediaStorage {
  /** Size (and last change, when the store knows it) of an object, or `undefined` when it does not exist. */
  stat(location: StorageLocation): Promise<{ bytes: number; modifiedMs?: number } | undefined>;
  read(location: StorageLocation): Promise<Buffer>;
  /** The object's bytes, or bytes `start` to `end` inclusive (HTTP ranges). */
  createReadStream(location: StorageLocation, range?: { start: number; end: number }): Readable;
  /**
   * A local file path with the object's content, for tools such as ffmpeg.
   * The filesystem store returns the object itself; a remote store downloads
   * it into `dir` (removed with it by the caller; see `withLocalFile`), or
   * without `dir` into a fresh folder the caller removes.
   */
  localPath(location: StorageLocation, options?: { dir?: string }): Promise<string>;
  /** Writes atomically: readers see the old object or the whole new one, never a part. */
  write(location: StorageLocation, data: Buffer | string | Readable): Promise<{ bytes: number }>;
  /** Moves a finished local file (for example ffmpeg's output) into the store, atomically. */
  putFile(location: StorageLocation, localFile: string): Promise<{ bytes: number }>;
  /** Objects under a key prefix, sorted by key. */
  list(bucket: string, prefix: string): Promise<StoredObject[]>;
  /** Removes an object; removing a missing one succeeds. */
  remove(location: StorageLocation): Promise<void>;
}
