import { buildConfig } from '../../tsup.shared.js';

export default buildConfig({ entry: ['src/main.ts', 'src/index.ts'], dts: false });
