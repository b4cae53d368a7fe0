import { spawn } from 'node:child_process';
import { UnrecoverableError } from '@nself-tv/queues';

/** Paths of the tools (`FFMPEG_PATH`, `FFPROBE_PATH`), defaulting to PATH. */
export const tools = {
  ffmpeg: process.env.FFMPEG_PATH || 'ffmpeg',
  ffprobe: process.env.FFPROBE_PATH || 'ffprobe',
};

/** A tool run that failed; the message ends with the tail of its stderr. */
export class ToolError extends Error {
  readonly code = 'TOOL_FAILED';
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(`${tool} failed (exit ${exitCode}): ${stderrTail.trim().split('\n').slice(-6).join(' | ')}`);
    this.name = 'ToolError';
  }
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  /** Called with each `key=value` block of ffmpeg's `-progress pipe:1`. */
  onProgress?: ((fields: Map<string, string>) => void) | undefined;
}

/**
 * Runs a tool as a child process and resolves with its stdout. The signal
 * kills it (SIGKILL: a job that is aborted must not leave ffmpeg behind), and
 * a failure carries the tail of stderr.
 */
export function run(tool: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(options.signal.reason);
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-8000);
    });
    const onAbort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? new UnrecoverableError(`${tool} is not installed or not on PATH (set FFMPEG_PATH / FFPROBE_PATH)`)
          : error,
      );
    });
    child.once('close', (code) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) return reject(options.signal.reason);
      if (code === 0) resolve(stdout);
      else reject(new ToolError(tool, code, stderr));
    });
  });
}
