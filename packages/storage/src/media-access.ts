import { StorageError } from './errors.js';
import type { HlsLayout } from './hls-layout.js';
import { itemKey } from './item-layout.js';
import type { MediaStorage, StorageLocation } from './storage.js';

/**
 * Who may play a media item: the families recorded by the ingest that made its HLS. It is kept
 * next to the HLS (`ITEM_LAYOUT.access`, `<prefix>access.json`), so it lives and goes with the media, and the gateway
 * reads it at admit from the same store and layout it serves playback from.
 */
export interface MediaAccess {
  readonly familyIds: readonly string[];
}

/** A record is a few ids; anything larger is not one of ours. */
const MAX_RECORD_BYTES = 16 * 1024;

/** Where `mediaId`'s record is. @throws StorageError `INVALID_LOCATION` for an id the layout refuses */
export function mediaAccessLocation(layout: HlsLayout, mediaId: string): StorageLocation {
  return { bucket: layout.bucket, key: itemKey(layout.prefixFor(mediaId), 'access') };
}

/**
 * The record of `mediaId`, or `undefined` when there is none. A record that is too large or not
 * in our shape is refused (`INVALID_RECORD`): whoever wrote it was not the ingest.
 */
export async function readMediaAccess(
  storage: MediaStorage,
  layout: HlsLayout,
  mediaId: string,
): Promise<MediaAccess | undefined> {
  const location = { ...mediaAccessLocation(layout, mediaId), within: layout.prefixFor(mediaId) };
  const stat = await storage.stat(location);
  if (!stat) return undefined;
  if (stat.bytes > MAX_RECORD_BYTES) {
    throw new StorageError('INVALID_RECORD', `${location.key} is larger than ${MAX_RECORD_BYTES} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse((await storage.read(location)).toString('utf8'));
  } catch (error) {
    if (error instanceof StorageError && error.code === 'NOT_FOUND') return undefined;
    if (error instanceof StorageError) throw error;
    throw new StorageError('INVALID_RECORD', `${location.key} is not JSON`);
  }
  const ids = (parsed as { familyIds?: unknown } | null)?.familyIds;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > 64 ||
    !ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 128)
  ) {
    throw new StorageError('INVALID_RECORD', `${location.key} does not list family ids`);
  }
  return { familyIds: ids as string[] };
}

/**
 * Records `familyId` as the owner of `mediaId` when the item has no record yet. Answers
 * `'created'` (this call wrote it), `'recorded'` (already this family's) or `'taken'` (another
 * family's item: the caller must not write into it).
 */
export async function recordMediaAccess(
  storage: MediaStorage,
  layout: HlsLayout,
  mediaId: string,
  familyId: string,
): Promise<'created' | 'recorded' | 'taken'> {
  const existing = await readMediaAccess(storage, layout, mediaId);
  if (existing) return existing.familyIds.includes(familyId) ? 'recorded' : 'taken';
  await storage.write(mediaAccessLocation(layout, mediaId), `${JSON.stringify({ familyIds: [familyId] })}\n`);
  return 'created';
}

/**
 * Removes the record of `mediaId` when it names `familyId` alone: what an ingest that wrote it
 * (`'created'`) does when it ends without media, so a failed attempt claims nothing. A record that
 * names other families, or none, stays.
 */
export async function releaseMediaAccess(
  storage: MediaStorage,
  layout: HlsLayout,
  mediaId: string,
  familyId: string,
): Promise<void> {
  const existing = await readMediaAccess(storage, layout, mediaId);
  if (existing?.familyIds.length === 1 && existing.familyIds[0] === familyId) {
    await storage.remove(mediaAccessLocation(layout, mediaId));
  }
}
