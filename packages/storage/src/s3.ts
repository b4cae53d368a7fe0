// `@nself-tv/storage/s3`: the S3 store itself, for a caller that builds one in code. It loads the
// S3 SDK (optional peers of this package); `openStorage` loads this module only for `STORAGE=s3`.
export type { S3StorageOptions } from './s3-storage.js';
export { createS3Storage } from './s3-storage.js';
