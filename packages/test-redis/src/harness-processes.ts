import { readdirSync, readFileSync } from 'node:fs';

/**
 * Every process the harness starts (test Redis servers, app processes, and
 * whatever they start in turn) carries this variable, so a leftover check
 * can tell them from a developer's own Redis or apps, whatever their port.
 */
export const HARNESS_MARKER = 'NSELF_TV_TEST_HARNESS';

/**
 * redis-server rewrites its command line and environment into its process
 * title, so the harness's servers carry the marker in their title instead
 * (`--proc-title-template`).
 */
export const HARNESS_TITLE = 'nself-tv-test-harness';

/** The environment entry that marks a process as started by the harness. */
export const harnessEnv = (): Record<string, string> => ({ [HARNESS_MARKER]: String(process.pid) });

/** A process that carries {@link HARNESS_MARKER}. */
export interface HarnessProcess {
  pid: number;
  command: string;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined; // gone, or another user's
  }
};

/** The processes the harness started that are still running (Linux `/proc`). */
export function harnessProcesses(): HarnessProcess[] {
  const marker = `${HARNESS_MARKER}=`;
  const found: HarnessProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const command = (read(`/proc/${name}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ').trim();
    // Zombies have no command line and hold nothing.
    if (!command) continue;
    const environ = read(`/proc/${name}/environ`) ?? '';
    if (command.includes(HARNESS_TITLE) || environ.split('\0').some((entry) => entry.startsWith(marker))) {
      found.push({ pid: Number(name), command });
    }
  }
  return found;
}
