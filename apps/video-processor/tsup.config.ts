import { buildConfig } from '../../tsup.shared.js';

export default buildConfig({ entry: ['src/index.ts', 'src/main.ts'], dts: false });
