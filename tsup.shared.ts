import { defineConfig, type Options } from 'tsup';

/**
 * The one build configuration of every package and app: ESM for Node 20,
 * source maps, declarations for libraries, Lua scripts bundled as text. Each
 * `tsup.config.ts` only names its entry points and what differs.
 */
export function buildConfig(options: {
  entry: string[];
  /** Declarations: `true` for libraries, `false` for apps, or the entries that have them. @default true */
  dts?: Options['dts'];
  external?: string[];
}) {
  return defineConfig({
    entry: options.entry,
    format: ['esm'],
    dts: options.dts ?? true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    loader: { '.lua': 'text' },
    ...(options.external ? { external: options.external } : {}),
  });
}
