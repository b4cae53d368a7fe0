import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
 * `<logDir>/<name>.log`, and waits for its "listening" line (pino JSON with
 * the address). Fails with the log's tail when it exits first or takes over
 * `timeoutMs`.
 */
export async function startApp(
  name: AppName,
  env: Record<string, string>,
  logDir: string,
  timeoutMs = 30_000,
): Promise<RunningApp> {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [mainOf(name)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  child.unref();
  const started = readFileSync(logFile, 'utf8').length;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = readFileSync(logFile, 'utf8').slice(started).split('\n');
    for (const line of lines) {
      if (!line.includes(`"${name} listening"`)) continue;
      const { address } = JSON.parse(line) as { address: string };
      return { name, pid: child.pid as number, address, logFile };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      stopGroup(child.pid);
      throw new Error(`${name} did not start (${logFile}):\n${lines.slice(-8).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
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
