import type { MediaStorage } from '@nself-tv/storage';

/** The files an ingest wrote, one line per folder under its prefix: count, size and names. */
export async function describeOutputs(storage: MediaStorage, bucket: string, prefix: string): Promise<string[]> {
  const groups = new Map<string, { names: string[]; bytes: number }>();
  for (const object of await storage.list(bucket, prefix)) {
    const rel = object.key.slice(prefix.length);
    const at = rel.lastIndexOf('/');
    const folder = at < 0 ? '.' : rel.slice(0, at);
    const group = groups.get(folder) ?? { names: [], bytes: 0 };
    group.names.push(rel.slice(at + 1));
    group.bytes += object.bytes;
    groups.set(folder, group);
  }
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([folder, { names, bytes }]) => {
      const shown = names.length > 6 ? [...names.slice(0, 4), '…', names.at(-1)] : names;
      const size = bytes < 10_240 ? `${bytes} B` : `${(bytes / 1024).toFixed(0)} KiB`;
      return `  ${`${folder}/`.padEnd(22)} ${String(names.length).padStart(3)} files ${size.padStart(10)}  ${shown.join(' ')}`;
    });
}
