import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * How a tool is started so that only the worker decides when it stops:
 *
 * - The child runs in its own process group, so signals to the worker's group
 *   never reach it; and SIGINT, SIGTERM, SIGHUP and SIGQUIT are blocked in it (a blocked
 *   mask survives `exec`, and ffmpeg installs handlers but never unblocks), so
 *   Ctrl-C in a terminal, systemd's `KillMode=control-group` or a container
 *   init that signals the whole group cannot end an encode; the worker stops
 *   it with SIGKILL, which cannot be blocked.
 * - The child gets SIGKILL when the worker dies (`PR_SET_PDEATHSIG`), so a
 *   SIGKILLed worker leaves no ffmpeg running.
 * - Its data segment is capped (`RLIMIT_DATA`), so a hostile file cannot take
 *   the machine's memory.
 *
 * On Linux this chains Debian's essential tools: `perl` (signal mask),
 * `setpriv --pdeathsig` and `prlimit --data` (util-linux), each `exec`ing the
 * next, so no extra process stays behind. What is missing (another OS, a
 * slim image without them) is skipped; {@link confinement} says what applies.
 */
const BLOCK_SIGNALS = [
  '-e',
  // Ignored first, in a BEGIN block before anything loads: loading POSIX takes about 8 ms, and a
  // group signal in that window would otherwise end the child before the mask is set.
  'BEGIN { $SIG{$_} = q(IGNORE) for qw(INT TERM HUP QUIT) }' +
    'use POSIX qw(sigprocmask SIG_BLOCK SIGINT SIGTERM SIGHUP SIGQUIT);' +
    'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGINT, SIGTERM, SIGHUP, SIGQUIT)) or die "sigprocmask: $!";' +
    'exec { $ARGV[0] } @ARGV or do { print STDERR "failed to execute $ARGV[0]: $!\\n"; exit 127 }',
];

const onPath = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
};

interface Helpers {
  perl: string | undefined;
  setpriv: string | undefined;
  prlimit: string | undefined;
}
let helpers: Helpers | undefined;
const found = (): Helpers => {
  helpers ??=
    process.platform === 'linux'
      ? { perl: onPath('perl'), setpriv: onPath('setpriv'), prlimit: onPath('prlimit') }
      : { perl: undefined, setpriv: undefined, prlimit: undefined };
  return helpers;
};

/** What protects the worker's child processes on this machine. */
export interface Confinement {
  /** Group signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT) cannot stop a child. */
  signalsBlocked: boolean;
  /** A child is SIGKILLed when the worker dies. */
  diesWithParent: boolean;
  /** The memory cap of each child in MiB, when one applies. */
  memoryLimitMb: number | undefined;
}

/** Says which protections {@link childCommand} applies here, for the start-up log. */
export function confinement(maxMemoryMb: number | undefined): Confinement {
  const h = found();
  return {
    signalsBlocked: h.perl !== undefined,
    diesWithParent: h.setpriv !== undefined,
    memoryLimitMb: h.prlimit !== undefined ? maxMemoryMb : undefined,
  };
}

/** Exit status of the chain when the tool itself cannot be started (as a shell's). */
export const EXEC_FAILED = 127;

/** The command line that runs `tool args` confined as described above. */
export function childCommand(
  tool: string,
  args: readonly string[],
  maxMemoryMb: number | undefined,
): { command: string; args: string[] } {
  const h = found();
  let argv = [tool, ...args];
  if (h.prlimit && maxMemoryMb !== undefined) {
    argv = [h.prlimit, `--data=${maxMemoryMb * 1024 * 1024}`, '--', ...argv];
  }
  if (h.setpriv) argv = [h.setpriv, '--pdeathsig', 'KILL', '--', ...argv];
  if (h.perl) argv = [h.perl, ...BLOCK_SIGNALS, ...argv];
  const [command, ...rest] = argv as [string, ...string[]];
  return { command, args: rest };
}
