import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { harnessEnv } from './harness-processes.js';

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
 * Starts `node <main>` with `env` over the test's environment and reads its
 * pino lines until one has the message `readyMessage` and an `address`.
 * Call {@link killAppProcesses} in `afterAll` so no app outlives the file.
 */
export function startAppProcess(
  main: string,
  readyMessage: string,
  env: Record<string, string> = {},
  options: {
    /** Leader of its own process group, so a test can signal the whole group (`process.kill(-pid)`). */
    processGroup?: boolean;
  } = {},
): AppProcess {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...harnessEnv(), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: options.processGroup ?? false,
  });
  running.add(child);
  let out = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const address = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      for (const line of out.split('\n')) {
        if (!line.includes(`"${readyMessage}"`)) continue;
        const parsed = JSON.parse(line) as { address?: string };
        if (parsed.address) resolve(parsed.address);
      }
    });
    child.once('exit', (code) => reject(new Error(`${main} exited with ${code} before "${readyMessage}":\n${out}`)));
  });
  address.catch(() => undefined);
  return { child, address, exited, output: () => out };
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
