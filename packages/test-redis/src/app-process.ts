import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { HARNESS_MARKER, harnessEnv } from './harness-processes.js';

/** A built app started as a child process by a test. */
export interface AppProcess {
  child: ChildProcess;
  /** The HTTP address from the app's "listening" log line. */
  address: Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Everything the app wrote to stdout so far. */
  output(): string;
}

const running = new Set<ChildProcess>();

/**
 * Starts `node <main>` with `env` over this process's environment and waits
 * for the pino line whose message is `readyMessage` and that has an
 * `address`. Read from its stdout, or with `logFile` from that file, where
 * stdout and stderr are appended and the app runs on after this process
 * (its own process group; the demo's `--keep`). Call
 * {@link killAppProcesses} in `afterAll` so no test's app outlives the file.
 */
export function startAppProcess(
  main: string,
  readyMessage: string,
  env: Record<string, string> = {},
  options: {
    /** Leader of its own process group, so a test can signal the whole group (`process.kill(-pid)`). */
    processGroup?: boolean;
    /** Append the app's output here and let it outlive this process. */
    logFile?: string;
    /** Keep what the app writes after it is ready, for `output()`. Off for benches. @default true */
    keepOutput?: boolean;
  } = {},
): AppProcess {
  const { logFile } = options;
  // An app that outlives its parent belongs to a test only when the parent runs under the harness.
  const marked = !logFile || process.env[HARNESS_MARKER] !== undefined;
  const fd = logFile ? openSync(logFile, 'a') : undefined;
  const logStart = logFile ? statSync(logFile).size : 0;
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...(marked ? harnessEnv() : {}), ...env },
    stdio: fd === undefined ? ['ignore', 'pipe', 'inherit'] : ['ignore', fd, fd],
    detached: logFile !== undefined || (options.processGroup ?? false),
  });
  if (fd !== undefined) {
    closeSync(fd);
    child.unref();
  }
  running.add(child);
  let out = '';
  const output = () => (logFile ? readFileSync(logFile, 'utf8').slice(logStart) : out);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const readyAddress = (text: string) => {
    for (const line of text.split('\n')) {
      if (!line.includes(`"${readyMessage}"`)) continue;
      const parsed = JSON.parse(line) as { address?: string };
      if (parsed.address) return parsed.address;
    }
    return undefined;
  };
  const address = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${main} exited with ${code} before "${readyMessage}":\n${output()}`)),
    );
    if (logFile) {
      const poll = setInterval(() => {
        const found = readyAddress(output());
        if (found) {
          clearInterval(poll);
          resolve(found);
        }
      }, 50);
      child.once('exit', () => clearInterval(poll));
      return;
    }
    let ready = false;
    child.stdout?.on('data', (b: Buffer) => {
      if (ready && options.keepOutput === false) return;
      out += b.toString();
      if (ready) return;
      const found = readyAddress(out);
      if (found) {
        ready = true;
        resolve(found);
      }
    });
  });
  address.catch(() => undefined);
  return { child, address, exited, output };
}

/** SIGKILLs every app process a test started that is still running. */
export function killAppProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Polls `check` every 100 ms until it returns something other than `undefined`. */
export async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A JSON reply: status and parsed body. */
export interface JsonReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary reply fields
  body: Record<string, any>;
}

/** The worker apps' job API at `address`, called with the bearer `token`. */
export function jobApi(address: string, token: string) {
  const job = async (id: string): Promise<JsonReply['body']> =>
    (await (
      await fetch(`${address}/api/v1/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as JsonReply['body'];
  return {
    /** `POST /api/v1/jobs/<kind>` with a JSON body. */
    async submit(kind: string, body: unknown): Promise<JsonReply> {
      const r = await fetch(`${address}/api/v1/jobs/${kind}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as JsonReply['body'] };
    },
    /** `GET /api/v1/jobs/:id` with the token. */
    job,
    /** Polls the job until it is completed or failed. */
    settled: (id: string, timeoutMs = 60_000) =>
      until(async () => {
        const j = await job(id);
        return j.state === 'completed' || j.state === 'failed' ? j : undefined;
      }, timeoutMs),
  };
}

/** Pids of the running processes whose command line matches `pattern` (`pgrep -f`). */
export function processesMatching(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', pattern]).toString().trim().split('\n').filter(Boolean);
  } catch {
    // pgrep exits 1 when nothing matches.
    return [];
  }
}
