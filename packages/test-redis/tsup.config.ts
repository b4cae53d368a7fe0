import { buildConfig } from '../../tsup.shared.js';

export default buildConfig({
  entry: ['src/index.ts', 'src/global-setup.ts', 'src/lua-plugin.ts', 'src/leftovers-cli.ts'],
  external: ['vitest', 'vitest/node'],
});
