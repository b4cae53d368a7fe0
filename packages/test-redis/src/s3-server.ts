import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A local S3-compatible server for tests and the demo. */
export interface S3ServerHandle {
  readonly endpoint: string;
  /** What the apps read (`STORAGE=s3` and the `S3_*` variables). */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts s3rver in this process on a free loopback port with `buckets`
 * created and its files in a temporary folder (removed by `close()`).
 * It accepts any credentials; the ones in `env` are its defaults.
 */
export async function startS3Server(buckets: string[] = ['media']): Promise<S3ServerHandle> {
  // Loaded here: most tests never need it.
  const { default: S3rver } = await import('s3rver');
  const directory = mkdtempSync(join(tmpdir(), 'nself-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: {
      STORAGE: 's3',
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
