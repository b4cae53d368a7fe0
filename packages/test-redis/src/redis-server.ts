import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HARNESS_MARKER, HARNESS_TITLE, harnessEnv } from './harness-processes.js';

/** A redis-server started for tests. */
export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same data folder. */
  start(): Promise<void>;
  /** Stops the server for good and removes its folder (not a `dataDir`). */
  close(): Promise<void>;
  /** The redis-server process, while it runs. */
  readonly pid: number | undefined;
}

/** Options of {@link startRedisServer}. */
export interface StartRedisOptions {
  /** Extra redis-server arguments, for example `['--maxmemory', '1mb']`. @default [] */
  args?: string[];
  /** redis-server binary. @default process.env.REDIS_SERVER_PATH ?? 'redis-server' */
  binary?: string;
  /**
   * Keep the data in this folder (not removed by `close()`), with AOF persistence and
   * `maxmemory-policy noeviction`, as a deployment would. @default a temporary folder, no persistence
   */
  dataDir?: string;
  /**
   * A config file given to redis-server before every other argument, for modes that need one
   * (`--sentinel` rewrites its file as it learns the topology). @default none
   */
  configFile?: string;
  /**
   * Let the server outlive this process (the demo's `--keep`): no watchdog, its own process
   * group. Stop it with `stop()` or its `pid`. @default false
   */
  detached?: boolean;
}

/** The message shown when tests need Redis and none can be found. */
export const REDIS_MISSING_MESSAGE = [
  'The tests need a real Redis, and none was found:',
  '  - `redis-server` is not on PATH, and',
  '  - REDIS_URL is not set.',
  'Install Redis 7 (Debian/Ubuntu: `sudo apt-get install -y redis-server`; macOS: `brew install redis`),',
  'or point REDIS_URL at a disposable Redis you may write to.',
].join('\n');

/** True when the redis-server binary can be run. */
export function hasRedisServer(binary = process.env.REDIS_SERVER_PATH ?? 'redis-server'): boolean {
  const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** Finds a TCP port that is free on the loopback interface right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (buf) => done(/^(\+PONG|-NOAUTH)/.test(buf.toString())));
  });
}

/*
 * redis-server runs under a small shell watchdog that kills it when the test
 * runner (our parent) dies, even by SIGKILL, so no server outlives a run.
 */
const WATCHDOG =
  'bin="$1"; shift; "$bin" "$@" & rs=$!; echo "$rs"; ' +
  'while kill -0 "$WATCH_PID" 2>/dev/null && kill -0 "$rs" 2>/dev/null; do sleep 1; done; ' +
  'kill "$rs" 2>/dev/null; wait "$rs"';

/**
 * Starts a private redis-server on a free loopback port with persistence off
 * and its files in a temporary folder, and waits until it answers PING.
 *
 * @throws Error with {@link REDIS_MISSING_MESSAGE} when redis-server is missing.
 */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const binary = options.binary ?? process.env.REDIS_SERVER_PATH ?? 'redis-server';
  if (!hasRedisServer(binary)) throw new Error(REDIS_MISSING_MESSAGE);
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'nself-redis-'));
  if (options.dataDir) mkdirSync(dir, { recursive: true });
  // A server that outlives its parent belongs to a test only when the parent runs under the harness.
  const marked = !options.detached || process.env[HARNESS_MARKER] !== undefined;
  const port = await freePort();
  let child: ChildProcess | undefined;
  let serverPid: number | undefined;
  let stderr = '';

  const ready = async (proc: ChildProcess) => {
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`redis-server on port ${port} did not start: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const start = async () => {
    if (child) return;
    const args = [
      ...(options.configFile ? [options.configFile] : []),
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      ...(options.dataDir ? ['--appendonly', 'yes', '--maxmemory-policy', 'noeviction'] : ['--appendonly', 'no']),
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      ...(marked ? ['--proc-title-template', `{title} {listen-addr} {server-mode} ${HARNESS_TITLE}`] : []),
      ...(options.args ?? []),
    ];
    if (options.detached) {
      const proc = spawn(binary, args, {
        stdio: 'ignore',
        detached: true,
        env: { ...process.env, ...(marked ? harnessEnv() : {}) },
      });
      proc.unref();
      child = proc;
      serverPid = proc.pid;
      await ready(proc);
      return;
    }
    const proc = spawn('sh', ['-c', WATCHDOG, 'sh', binary, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...harnessEnv(), WATCH_PID: String(process.pid) },
    });
    child = proc;
    proc.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
    serverPid = await new Promise<number>((resolve, reject) => {
      proc.stdout?.once('data', (b: Buffer) => resolve(Number(b.toString().trim().split('\n')[0])));
      proc.once('exit', () => reject(new Error(`redis-server exited at start: ${stderr}`)));
    });
    await ready(proc);
  };

  const stop = async () => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    const exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    if (serverPid) {
      try {
        process.kill(serverPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => {
      try {
        if (serverPid) process.kill(serverPid, 'SIGKILL');
        proc.kill('SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async close() {
      await stop();
      if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
    },
    get pid() {
      return child ? serverPid : undefined;
    },
  };
}
