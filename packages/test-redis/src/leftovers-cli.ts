// Fails (exit 1) when a process started by the test harness is still running.
// CI runs it after the tests: `node packages/test-redis/dist/leftovers-cli.js`.
import { HARNESS_MARKER, harnessProcesses } from './harness-processes.js';

const left = harnessProcesses();
if (left.length > 0) {
  for (const p of left) console.error(`${p.pid} ${p.command}`);
  console.error(`${left.length} process(es) started by the test harness (${HARNESS_MARKER}) are still running`);
  process.exit(1);
}
console.log('no process started by the test harness is left');
