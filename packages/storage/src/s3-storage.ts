import { randomBytes } from 'node:crypto';
import { createReadStream as createFileReadStream, createWriteStream } from 'node:fs';
import { stat as fsStat, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { StorageError } from './errors.js';
import { bucketProblem, keyProblem } from './location-rules.js';
import type { S3Connection } from './settings.js';
import type { MediaStorage, StorageLocation, StoredObject } from './storage.js';

/** Options of {@link createS3Storage}: the connection, and what only code sets. */
export interface S3StorageOptions extends S3Connection {
  /** Multipart part size for uploads, in bytes (5 MiB at least). @default 8 MiB */
  partSizeBytes?: number;
  /** Where `localPath` downloads go when the caller names no folder. @default the system temp folder */
  tempDir?: string;
  /** A client of your own (tests, custom credentials). Overrides the connection options above. */
  client?: S3Client;
}

const MIB = 1024 * 1024;

/** The SDK error's name and HTTP status, whatever shape the error has. */
function describe(error: unknown): { name: string; status: number | undefined } {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return { name: e?.name ?? e?.Code ?? 'Error', status: e?.$metadata?.httpStatusCode };
}

/**
 * Maps a store failure to the storage codes the retry policy knows: a missing
 * object is `NOT_FOUND` and denied access `ACCESS_DENIED` (both the same on
 * every attempt); a store that does not answer or answers 5xx is
 * `STORE_UNAVAILABLE` (retried).
 */
function storageFailure(error: unknown, location: string): StorageError {
  if (error instanceof StorageError) return error;
  const { name, status } = describe(error);
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || status === 404) {
    return new StorageError('NOT_FOUND', `${location} does not exist`, { cause: error });
  }
  if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || status === 403) {
    return new StorageError('ACCESS_DENIED', `${location}: the store denied access (${name})`, { cause: error });
  }
  return new StorageError('STORE_UNAVAILABLE', `${location}: the store did not answer (${name})`, { cause: error });
}

function checked(location: StorageLocation): StorageLocation {
  const bad = bucketProblem(location.bucket);
  if (bad) throw new StorageError('INVALID_LOCATION', `bucket '${String(location.bucket)}': ${bad}`);
  const problem = keyProblem(location.key);
  if (problem) throw new StorageError('INVALID_LOCATION', `key '${String(location.key)}': ${problem}`);
  // An object store has no links: staying inside `within` is the key's own prefix.
  if (location.within !== undefined && !location.key.startsWith(location.within)) {
    throw new StorageError('INVALID_LOCATION', `key '${location.key}' leaves ${location.within}`);
  }
  return location;
}

/**
 * A media store in S3-compatible object storage. Reads and writes stream:
 * uploads go up in parts (`@aws-sdk/lib-storage`), downloads go straight to
 * disk, so no video is held in memory. Checksums are computed only where the
 * API requires them: with the SDK's defaults a streamed upload to a non-AWS
 * server can store the chunk framing inside the object.
 */
export function createS3Storage(options: S3StorageOptions = {}): MediaStorage & { readonly client: S3Client } {
  const config: S3ClientConfig = {
    region: options.region ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.accessKeyId && options.secretAccessKey
      ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
      : {}),
  };
  const client = options.client ?? new S3Client(config);
  const partSize = Math.max(5 * MIB, options.partSizeBytes ?? 8 * MIB);
  const where = (l: StorageLocation) => `${l.bucket}/${l.key}`;

  async function get(location: StorageLocation, range?: { start: number; end: number }) {
    const l = checked(location);
    try {
      const out = await client.send(
        new GetObjectCommand({
          Bucket: l.bucket,
          Key: l.key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return out.Body as Readable;
    } catch (error) {
      throw storageFailure(error, where(l));
    }
  }

  async function upload(location: StorageLocation, body: Buffer | string | Readable): Promise<{ bytes: number }> {
    const l = checked(location);
    let bytes = 0;
    const counted =
      body instanceof Readable
        ? body.pipe(
            new PassThrough({
              transform(chunk: Buffer, _encoding, done) {
                bytes += chunk.length;
                done(null, chunk);
              },
            }),
          )
        : body;
    if (!(body instanceof Readable)) bytes = Buffer.byteLength(body);
    try {
      // One PUT for small bodies, parts for large ones; the object appears whole or not at all.
      await new Upload({ client, params: { Bucket: l.bucket, Key: l.key, Body: counted }, partSize }).done();
    } catch (error) {
      throw storageFailure(error, where(l));
    }
    return { bytes };
  }

  return {
    client,
    async stat(location) {
      const l = checked(location);
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: l.bucket, Key: l.key }));
        return {
          bytes: head.ContentLength ?? 0,
          ...(head.LastModified ? { modifiedMs: head.LastModified.getTime() } : {}),
        };
      } catch (error) {
        const failure = storageFailure(error, where(l));
        if (failure.code === 'NOT_FOUND') return undefined;
        throw failure;
      }
    },
    async read(location) {
      const body = await get(location);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    createReadStream(location, range) {
      const out = new PassThrough();
      get(location, range).then(
        (body) => body.on('error', (error) => out.destroy(error)).pipe(out),
        (error: unknown) => out.destroy(error as Error),
      );
      return out;
    },
    /** Downloads the object into `dir`, or into a fresh folder under `tempDir` that the caller removes. */
    async localPath(location, localOptions) {
      const l = checked(location);
      const dir =
        localOptions?.dir ??
        join(options.tempDir ?? tmpdir(), `nself-${process.pid}-s3-${randomBytes(6).toString('hex')}`);
      await mkdir(dir, { recursive: true });
      // Two objects with one name (a video and its sidecar) may share the folder.
      const file = join(dir, `${randomBytes(4).toString('hex')}-${basename(l.key)}`);
      try {
        await pipeline(await get(l), createWriteStream(file));
      } catch (error) {
        await rm(localOptions?.dir ? file : dir, { recursive: true, force: true });
        throw storageFailure(error, where(l));
      }
      return file;
    },
    write: upload,
    async putFile(location, localFile) {
      const { size } = await fsStat(localFile);
      await upload(location, createFileReadStream(localFile));
      await rm(localFile, { force: true });
      return { bytes: size };
    },
    async list(bucket, prefix) {
      const bad = bucketProblem(bucket);
      if (bad) throw new StorageError('INVALID_LOCATION', `bucket '${String(bucket)}': ${bad}`);
      const found: StoredObject[] = [];
      let token: string | undefined;
      do {
        let page: ListObjectsV2CommandOutput;
        try {
          page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
          );
        } catch (error) {
          throw storageFailure(error, `${bucket}/${prefix}`);
        }
        for (const o of page.Contents ?? []) if (o.Key) found.push({ key: o.Key, bytes: o.Size ?? 0 });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async remove(location) {
      const l = checked(location);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: l.bucket, Key: l.key }));
      } catch (error) {
        const failure = storageFailure(error, where(l));
        if (failure.code !== 'NOT_FOUND') throw failure;
      }
    },
  };
}
