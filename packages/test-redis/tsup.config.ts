import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/global-setup.ts', 'src/lua-plugin.ts', 'src/leftovers-cli.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  external: ['vitest', 'vitest/node'],
  target: 'node20',
});
