import { spawn } from 'node:child_process';
import { MediaError } from './errors.js';
import { childCommand, EXEC_FAILED } from './launcher.js';

/** Default memory cap of each tool run, in MiB (`FFMPEG_MAX_MEMORY_MB`). */
export const DEFAULT_MAX_MEMORY_MB = 4096;

/** Which ffmpeg and ffprobe run, and the memory cap of each run in MiB (`undefined`: none). */
export interface ToolSettings {
  ffmpeg: string;
  ffprobe: string;
  /** The OCR engine that reads picture subtitles. */
  tesseract: string;
  maxMemoryMb: number | undefined;
}

const current: ToolSettings = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffprobe',
  tesseract: 'tesseract',
  maxMemoryMb: DEFAULT_MAX_MEMORY_MB,
};

/**
 * The tools every run uses: `ffmpeg`, `ffprobe` and `tesseract` from `PATH` and a 4096 MiB
 * cap until the app calls {@link configureTools}. Read-only: nothing here
 * reads the environment.
 */
export const tools: Readonly<ToolSettings> = {
  get ffmpeg() {
    return current.ffmpeg;
  },
  get ffprobe() {
    return current.ffprobe;
  },
  get tesseract() {
    return current.tesseract;
  },
  get maxMemoryMb() {
    return current.maxMemoryMb;
  },
};

/** Sets the tools, once at start-up, from the app's parsed settings (`mediaToolSettings`). */
export function configureTools(settings: Partial<ToolSettings>): void {
  Object.assign(current, settings);
}

/** A tool run that failed (`TOOL_FAILED`); the message ends with the tail of its stderr. */
export class ToolError extends MediaError {
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super('TOOL_FAILED', `${tool} failed (exit ${exitCode}): ${stderrTail.trim().split('\n').slice(-6).join(' | ')}`);
    this.name = 'ToolError';
  }
}

const notInstalled = (tool: string) =>
  new MediaError(
    'TOOL_MISSING',
    `${tool} is not installed or not on PATH (set FFMPEG_PATH / FFPROBE_PATH / TESSERACT_PATH)`,
  );

/** An input in a format that is never read (a playlist, a concat list…): the same on every attempt. */
const refusedInput = (stderr: string) =>
  new MediaError(
    'REFUSED_INPUT',
    `refused input: not a single media file of an accepted format (${/\[(\w+) @[^\]]*\] Format not on whitelist/.exec(stderr)?.[1] ?? 'unknown'} is not read)`,
  );

export interface RunOptions {
  signal?: AbortSignal | undefined;
  /** Kills the tool (SIGKILL) after this long and fails with a ToolError. @default no limit besides the signal */
  timeoutMs?: number | undefined;
  /**
   * Called with each line of stderr, for tools that report there as they go (a filter's per-frame
   * log); a line longer than {@link MAX_STDERR_LINE} is cut to it.
   */
  onStderrLine?: ((line: string) => void) | undefined;
  /** Called with each `key=value` block of ffmpeg's `-progress pipe:1` (see {@link progressOf}). */
  onProgress?: ((fields: Map<string, string>) => void) | undefined;
}

/** The longest stderr line handed to `onStderrLine`. */
export const MAX_STDERR_LINE = 4096;

/** Options of {@link runLog}. */
export interface RunLogOptions extends Omit<RunOptions, 'onStderrLine'> {
  /** How much of the log is kept, in characters. */
  maxChars: number;
  /** Which end is kept: `head` for what a tool says first (a header trace), `tail` for a summary at the end. */
  keep: 'head' | 'tail';
}

/**
 * Runs a tool for what it says on stderr (ffmpeg's `idet` and `ebur128` summaries, a header trace,
 * what a player's decode complained of): resolves with the log, bounded to `maxChars` from the end
 * asked. Fails as {@link run} does.
 */
export async function runLog(tool: string, args: string[], options: RunLogOptions): Promise<string> {
  const { maxChars, keep, ...rest } = options;
  let log = '';
  await run(tool, args, {
    ...rest,
    onStderrLine: (line) => {
      if (keep === 'head') {
        if (log.length < maxChars) log = `${log}${line}\n`.slice(0, maxChars);
      } else log = `${log}${line}\n`.slice(-maxChars);
    },
  });
  return log;
}

/**
 * The share done (0–1) of an ffmpeg run, from a `-progress` block: by frames when the run's frame
 * count is known, else by output time over the duration.
 */
export function progressOf(fields: Map<string, string>, total: { frames: number } | { seconds: number }): number {
  const done =
    'frames' in total
      ? Number(fields.get('frame') ?? 0) / total.frames
      : Number(fields.get('out_time_us') ?? 0) / 1e6 / total.seconds;
  return Number.isFinite(done) ? Math.min(1, Math.max(0, done)) : 0;
}

/**
 * Runs a tool as a child process and resolves with its stdout. The child is
 * confined (see `childCommand`): group signals cannot stop it, it dies with
 * the worker, its memory is capped. The signal or the timeout kills it
 * (SIGKILL: a job that is aborted must not leave ffmpeg behind), and a failure
 * carries the tail of stderr.
 */
export function run(tool: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(options.signal.reason);
    const confined = childCommand(tool, args, tools.maxMemoryMb);
    // Its own process group: a signal to the worker's group (Ctrl-C, a closed terminal, a
    // container init) never reaches it, not even in the moment between exec and the mask.
    const child = spawn(confined.command, confined.args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    let stdout = '';
    let stderr = '';
    let block = new Map<string, string>();
    child.stdout.on('data', (b: Buffer) => {
      const text = b.toString();
      if (!options.onProgress) {
        stdout += text;
        return;
      }
      for (const line of text.split('\n')) {
        const at = line.indexOf('=');
        if (at <= 0) continue;
        block.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
        if (line.startsWith('progress=')) {
          options.onProgress(block);
          block = new Map();
        }
      }
    });
    let pendingLine = '';
    const onLine = options.onStderrLine;
    child.stderr.on('data', (b: Buffer) => {
      const text = b.toString();
      stderr = (stderr + text).slice(-8000);
      if (!onLine) return;
      const lines = (pendingLine + text).split('\n');
      pendingLine = (lines.pop() ?? '').slice(-MAX_STDERR_LINE);
      for (const line of lines) onLine(line.slice(0, MAX_STDERR_LINE));
    });
    const onAbort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? notInstalled(tool) : error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (onLine && pendingLine) onLine(pendingLine);
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) return reject(options.signal.reason);
      if (timedOut) reject(new ToolError(tool, code, `${stderr}\nkilled after ${options.timeoutMs} ms`));
      else if (code === 0) resolve(stdout);
      else if (code === EXEC_FAILED && /failed to execute/.test(stderr)) reject(notInstalled(tool));
      else if (/not on whitelist/.test(stderr)) reject(refusedInput(stderr));
      else reject(new ToolError(tool, code, stderr));
    });
  });
}
