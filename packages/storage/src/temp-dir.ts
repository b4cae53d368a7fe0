import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaStorage, StorageLocation } from './storage.js';

/** Temporary folders are `nself-<pid>-<label>-XXXXXX`: the pid says whose they are. */
const OWNED = /^nself-(\d+)-/;

/**
 * Runs `work` with a fresh temporary folder and removes the folder afterwards,
 * whether `work` succeeds, throws or is aborted. A process killed outright
 * leaves its folders behind; {@link sweepStaleTempDirs} removes them.
 */
export async function withTempDir<T>(label: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `nself-${process.pid}-${label}-`));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `work` with a local file of the object: the object itself on the
 * filesystem store, a download on a remote one, removed afterwards whether
 * `work` succeeds, throws or is aborted.
 */
export function withLocalFile<T>(
  storage: Pick<MediaStorage, 'localPath'>,
  location: StorageLocation,
  work: (path: string) => Promise<T>,
): Promise<T> {
  return withTempDir('source', async (dir) => work(await storage.localPath(location, { dir })));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists and belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes the temporary folders of processes that no longer run (a worker
 * that was SIGKILLed or lost its machine mid-job). Returns the names removed.
 * Call it once at start-up; folders of live processes are never touched.
 */
export async function sweepStaleTempDirs(dir: string = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(OWNED.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
