import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The path of Debian's chromium for the browser tests (`CHROMIUM_PATH`, default
 * `/usr/bin/chromium`). When it is missing and this runs as root with apt-get, it is installed
 * first; otherwise this throws saying how to get one. Nothing is downloaded by playwright.
 */
export function ensureChromium(log: (line: string) => void = () => undefined): string {
  const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (existsSync(path)) return path;
  if (process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
    log('chromium is missing; installing it with apt-get');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
  }
  if (!existsSync(path)) throw new Error(`no browser at ${path}: apt-get install chromium, or set CHROMIUM_PATH`);
  return path;
}

/** Flags for headless chromium in a container or CI (no sandbox, no GPU, no background traffic). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
