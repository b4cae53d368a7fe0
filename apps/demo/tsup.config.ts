import { buildConfig } from '../../tsup.shared.js';

export default buildConfig({ entry: ['src/main.ts', 'src/readme-tables.ts'], dts: false });
