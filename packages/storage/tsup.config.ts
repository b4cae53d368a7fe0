import { buildConfig } from '../../tsup.shared.js';

// `s3` is its own entry: the S3 SDK loads only where S3 is used.
export default buildConfig({ entry: ['src/index.ts', 'src/s3.ts'] });
