import { readFileSync } from 'node:fs';

/**
 * Vite/vitest plugin that imports `.lua` files as strings, the way the tsup
 * `text` loader does in the published build, so tests run the same scripts.
 */
export function luaTextPlugin() {
  return {
    name: 'nself-lua-text',
    load(id: string) {
      if (!id.endsWith('.lua')) return null;
      return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
    },
  };
}
