import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAppProcess } from '@nself-tv/test-redis';

/** An app the demo started, in its own process group (so its ffmpeg children go with it). */
export interface RunningApp {
  name: string;
  pid: number;
  address: string;
  logFile: string;
}

/** The three apps, by the folder next to this one. */
export const APPS = ['video-processor', 'thumbnail-generator', 'stream-gateway'] as const;
export type AppName = (typeof APPS)[number];

const mainOf = (name: AppName) => fileURLToPath(new URL(`../../${name}/dist/main.js`, import.meta.url));

/**
 * Starts an app with `env`, its stdout and stderr appended to
 * `<logDir>/<name>.log`, in its own process group (it outlives the demo with
 * `--keep`), and waits for its "listening" line. Fails with the log's tail
 * when it exits first or takes over `timeoutMs`.
 */
export async function startApp(
  name: AppName,
  env: Record<string, string>,
  logDir: string,
  timeoutMs = 30_000,
): Promise<RunningApp> {
  const logFile = join(logDir, `${name}.log`);
  const app = startAppProcess(mainOf(name), `${name} listening`, env, { logFile });
  let timer: NodeJS.Timeout | undefined;
  try {
    const address = await Promise.race([
      app.address,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no "listening" line after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { name, pid: app.child.pid as number, address, logFile };
  } catch {
    stopGroup(app.child.pid);
    throw new Error(`${name} did not start (${logFile}):\n${app.output().trim().split('\n').slice(-8).join('\n')}`);
  } finally {
    clearTimeout(timer);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function stopGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * SIGTERM to each app's process group (the app shuts down gracefully and
 * kills its ffmpeg), then SIGKILL to whatever is left after `graceMs`.
 */
export async function stopApps(apps: readonly { pid: number }[], graceMs = 15_000): Promise<void> {
  for (const app of apps) stopGroup(app.pid);
  const deadline = Date.now() + graceMs;
  while (apps.some((a) => alive(a.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const app of apps) stopGroup(app.pid, 'SIGKILL');
}

export { alive };
