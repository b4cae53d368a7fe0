// `pnpm bench [--quick] [name…]`: runs every package's and app's benches (`bench/*.bench.mjs`) one after
// the other (they share the machine, so never in parallel) and prints one table
// from the `BENCH {json}` lines they print: what was measured, our figure, the raw
// baseline from the same run, the ratio and the goal. Names filter the benches
// (`pnpm bench cache sessions`). Node built-ins only.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));

// A package's benches are its `bench/*.bench.mjs` files, each run on its own in the package's folder.
const benchFiles = (dir) => {
  try {
    return readdirSync(join(dir, 'bench'))
      .filter((f) => f.endsWith('.bench.mjs'))
      .sort();
  } catch {
    return [];
  }
};
const benches = ['packages', 'apps']
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name)))
  .flatMap((dir) => {
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      return [];
    }
    const files = benchFiles(dir);
    return files.map((f) => ({
      dir,
      name: files.length > 1 ? `${pkg.name} ${f.replace('.bench.mjs', '')}` : pkg.name,
      command: ['node', join('bench', f)],
    }));
  })
  // Benches of the repository as a whole (scripts/<name>.bench.mjs), after the packages'.
  .concat(
    readdirSync(join(root, 'scripts'))
      .filter((f) => f.endsWith('.bench.mjs'))
      .map((f) => ({ dir: root, name: f.replace('.bench.mjs', ''), command: ['node', join('scripts', f)] })),
  )
  .filter((b) => only.length === 0 || only.some((o) => b.name.includes(o)));

if (benches.length === 0) {
  console.error(`no bench matches ${only.join(', ')}`);
  process.exit(1);
}

/** Runs one bench, streaming its output, and returns its BENCH rows. */
function runBench({ dir, name, command }) {
  return new Promise((resolve) => {
    console.log(`\n### ${name}: ${command.join(' ')}${quick ? ' --quick' : ''}`);
    const [cmd, ...args] = command;
    const child = spawn(cmd, [...args, ...(quick ? ['--quick'] : [])], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b.toString();
      process.stdout.write(b);
    });
    child.once('exit', (code) => {
      const rows = out
        .split('\n')
        .filter((l) => l.startsWith('BENCH '))
        .map((l) => JSON.parse(l.slice(6)));
      resolve({ name, code, rows });
    });
  });
}

/** Whether a ratio meets a goal written as `>= 0.9`, `≤ 1.10× raw` or `< 1`; undefined for other goals. */
function meets(ratio, goal) {
  const m = /^(>=|<=|<|>)\s*([\d.]+)/.exec(String(goal).replace('≥', '>=').replace('≤', '<='));
  if (!m) return undefined;
  const target = Number(m[2]);
  return { '>=': ratio >= target, '<=': ratio <= target, '<': ratio < target, '>': ratio > target }[m[1]];
}

const fmt = (n) => (typeof n !== 'number' ? String(n) : Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3));

const results = [];
for (const bench of benches) results.push(await runBench(bench));

const lines = [
  '',
  `## Benchmarks${quick ? ' (--quick: smaller runs, rougher figures)' : ''}`,
  '',
  '| package | measured | ours | raw baseline | ratio | goal | met |',
  '| --- | --- | ---: | ---: | ---: | --- | --- |',
];
let failed = 0;
for (const { name, code, rows } of results) {
  if (code !== 0 || rows.length === 0) {
    failed++;
    lines.push(`| ${name} | bench failed (exit ${code}) | | | | | |`);
    continue;
  }
  for (const r of rows) {
    const met = meets(r.ratio, r.goal);
    lines.push(
      `| ${r.package} | ${r.what} | ${fmt(r.ours)} | ${fmt(r.raw)} | ${r.ratio.toFixed(3)} | ${r.goal ?? '—'} | ${met === undefined ? '—' : met ? 'yes' : 'NO'} |`,
    );
  }
}
lines.push('', 'Ours and raw are measured in the same run on this machine; only the ratios compare across machines.');
console.log(lines.join('\n'));
process.exit(failed ? 1 : 0);
