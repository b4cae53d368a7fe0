import { ConfigError } from '@nself-tv/service/settings';
import { createFileStorage } from './file-storage.js';
import type { StorageConfig } from './settings.js';
import type { MediaStorage } from './storage.js';

/** The S3 SDK packages `STORAGE=s3` needs; optional peers, so a caller that never uses S3 installs none. */
export const S3_PEERS = ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'] as const;

/**
 * Opens the store a {@link StorageConfig} names. The S3 SDK is loaded here, and only for `s3`.
 * @throws ConfigError naming `STORAGE` when `s3` is asked and the SDK is not installed.
 */
export async function openStorage(config: StorageConfig): Promise<MediaStorage> {
  if (config.kind === 'fs') return createFileStorage({ root: config.mediaRoot });
  let s3: typeof import('./s3-storage.js');
  try {
    s3 = await import('./s3-storage.js');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new ConfigError(
      [{ variable: 'STORAGE', message: `s3 needs ${S3_PEERS.join(' and ')} installed beside @nself-tv/storage` }],
      { cause: error },
    );
  }
  return s3.createS3Storage(config.s3);
}
