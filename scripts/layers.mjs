// `pnpm test:layers`: the layering rules of the workspace (.dependency-cruiser.cjs: no import
// cycles, the runner never imports the ingest, the foundation libraries never import the HTTP
// shell, the processors never import the runner package, packages never import apps) and the
// size rule: no source file that is not a test is over 500 lines. Run after a build: a workspace
// package imported by name resolves to its dist.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const MAX_LINES = 500;
const root = resolve(import.meta.dirname, '..');
const say = (line) => console.log(`[layers] ${line}`);
let ok = true;

const cruise = spawnSync(
  'pnpm',
  [
    'exec',
    'depcruise',
    'packages/*/src',
    'apps/*/src',
    'deploy/src',
    '--config',
    '.dependency-cruiser.cjs',
    '--output-type',
    'err',
  ],
  { cwd: root, encoding: 'utf8', shell: false },
);
process.stdout.write(cruise.stdout);
process.stderr.write(cruise.stderr);
if (cruise.status !== 0) ok = false;

const tracked = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts', '*.mjs', '*.cjs', '*.js'], {
  cwd: root,
  encoding: 'utf8',
})
  .stdout.split('\n')
  .filter((f) => f && !/\.test\.ts$|\.d\.ts$|\/test\/fixtures\/|\/dist\//.test(f));
const long = tracked
  .map((file) => ({ file, lines: readFileSync(resolve(root, file), 'utf8').split('\n').length - 1 }))
  .filter((f) => f.lines > MAX_LINES)
  .sort((a, b) => b.lines - a.lines);
for (const f of long) say(`${f.file}: ${f.lines} lines, over ${MAX_LINES}: find its seams`);
if (long.length) ok = false;
say(ok ? `layers hold; ${tracked.length} source files, none over ${MAX_LINES} lines` : 'FAILED');
process.exit(ok ? 0 : 1);
