export type { StorageErrorCode } from './errors.js';
export { StorageError } from './errors.js';
export type { FileStorageOptions } from './file-storage.js';
export { createFileStorage, resolveLocation } from './file-storage.js';
export type { HlsLayout } from './hls-layout.js';
export { DEFAULT_HLS_BUCKET, DEFAULT_HLS_PREFIX, hlsLayout, hlsLayoutFromEnv } from './hls-layout.js';
export {
  BUCKET_PATTERN,
  bucketProblem,
  KEY_PATTERN,
  keyProblem,
  MAX_KEY_BYTES,
  MAX_PREFIX_BYTES,
  MAX_SEGMENT_BYTES,
  PREFIX_PATTERN,
  prefixProblem,
  TEMP_MARK,
} from './location-rules.js';
export type { MediaAccess } from './media-access.js';
export {
  MEDIA_ACCESS_FILE,
  mediaAccessLocation,
  readMediaAccess,
  recordMediaAccess,
  releaseMediaAccess,
} from './media-access.js';
export type { S3StorageOptions } from './s3-storage.js';
export { createS3Storage, storageFromEnv } from './s3-storage.js';
export type { StorageValues } from './settings.js';
export { hlsLayoutSettings, storageSettings } from './settings.js';
export type { MediaStorage, StorageLocation, StoredObject } from './storage.js';
export { sweepStaleTempDirs, withLocalFile, withTempDir } from './temp-dir.js';
