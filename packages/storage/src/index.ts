export type { StorageErrorCode } from './errors.js';
export { StorageError } from './errors.js';
export type { FileStorageOptions } from './file-storage.js';
export { createFileStorage, resolveLocation } from './file-storage.js';
export type { MediaStorage, StorageLocation, StoredObject } from './storage.js';
export { withTempDir } from './temp-dir.js';
