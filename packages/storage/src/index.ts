export type { StorageErrorCode } from './errors.js';
export { STORAGE_ERROR_FINALITY, StorageError } from './errors.js';
export type { FileStorageOptions } from './file-storage.js';
export { createFileStorage, resolveLocation } from './file-storage.js';
export type { HlsLayout } from './hls-layout.js';
export { DEFAULT_HLS_BUCKET, DEFAULT_HLS_PREFIX, hlsLayout } from './hls-layout.js';
export type { ItemEntry, ItemOutput } from './item-layout.js';
export { ITEM_LAYOUT, itemFolder, itemKey, keyUnder, renderItemLayoutTable } from './item-layout.js';
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
  mediaAccessLocation,
  readMediaAccess,
  recordMediaAccess,
  releaseMediaAccess,
} from './media-access.js';
export { openStorage, S3_PEERS } from './open-storage.js';
export type { S3Connection, StorageConfig } from './settings.js';
export { hlsLayoutSettings, storageSettings } from './settings.js';
export type { MediaStorage, StorageLocation, StoredObject } from './storage.js';
export { sweepStaleTempDirs, withLocalFile, withTempDir } from './temp-dir.js';
