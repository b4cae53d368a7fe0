import { ConfigError } from './settings.js';

/** A started service. */
export interface RunningService {
  address: string;
  /** Stops gracefully; resolves `false` when it had to give up (for example Redis did not answer). */
  stop(signal: string): Promise<boolean>;
  /** Writes out buffered log lines before the process exits. */
  flush?(): void;
}

/**
 * The entry point of an app, and the only code that touches the process:
 * starts the service, refuses to start on a {@link ConfigError} (its message,
 * every bad variable, on stderr; exit 1), and on SIGTERM, SIGINT or SIGHUP (a
 * closed terminal hands work back like Ctrl-C) stops it and exits 0, or 1 when
 * the stop did not finish. Libraries never exit or install signal handlers.
 */
export async function runService(name: string, start: () => Promise<RunningService>): Promise<void> {
  let service: RunningService | undefined;
  let requested: string | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    // A signal during start-up is served once the service is up, so nothing it started is left behind.
    if (!service) {
      requested ??= signal;
      return;
    }
    if (stopping) return;
    stopping = true;
    const clean = await service.stop(signal).catch(() => false);
    service.flush?.();
    process.exit(clean ? 0 : 1);
  };
  // Installed before start-up, so no signal finds the process without them.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
  try {
    service = await start();
  } catch (error) {
    const detail =
      error instanceof ConfigError ? `refusing to start: ${error.message}` : ((error as Error).stack ?? String(error));
    process.stderr.write(`${name}: ${detail}\n`);
    process.exit(1);
  }
  if (requested) await stop(requested);
}
