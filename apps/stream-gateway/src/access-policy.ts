import { type HlsLayout, type MediaStorage, readMediaAccess, StorageError } from '@nself-tv/storage';
import type { Caller } from './auth.js';

/** What an access policy answers for one caller and one media item. */
export type AccessDecision = { allow: true } | { allow: false; message: string };

/**
 * Decides at admit whether a caller may play a media item. The gateway's own is
 * {@link ownerPolicy}; a deployment with its own catalogue passes another
 * (`GatewayDeps.accessPolicy`) or names its decision endpoint in `PLAYBACK_ACCESS`.
 * Throwing means "cannot decide now": the caller gets 503 and may retry.
 */
export type AccessPolicy = (caller: Caller, mediaId: string) => Promise<AccessDecision>;

/** How long a decision read from the store is reused: a new ingest's record is seen within this. */
const RECORD_CACHE_MS = 5_000;
const RECORD_CACHE_MAX = 10_000;

/**
 * The families the ingest recorded for the item (`access.json` next to its HLS, in the store
 * playback reads). An item without a record, or with one the ingest did not write, plays for nobody.
 */
export function ownerPolicy(storage: MediaStorage, layout: HlsLayout): AccessPolicy {
  const cache = new Map<string, { families: readonly string[] | undefined; until: number }>();
  const familiesOf = async (mediaId: string) => {
    const now = Date.now();
    const hit = cache.get(mediaId);
    if (hit && hit.until > now) return hit.families;
    let families: readonly string[] | undefined;
    try {
      families = (await readMediaAccess(storage, layout, mediaId))?.familyIds;
    } catch (error) {
      // A record that is not ours, or an id the layout refuses, grants nothing; a store that does not answer is a fault.
      if (!(error instanceof StorageError) || error.code === 'STORE_UNAVAILABLE') throw error;
      families = undefined;
    }
    if (cache.size >= RECORD_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(mediaId, { families, until: now + RECORD_CACHE_MS });
    return families;
  };
  return async (caller, mediaId) => {
    const families = await familiesOf(mediaId);
    if (families?.includes(caller.familyId)) return { allow: true };
    // Another family's item and an unknown one look the same.
    return { allow: false, message: 'this media item is not in your library' };
  };
}

/** Every signed-in family may play every item: one household on one server. */
export const anyFamilyPolicy: AccessPolicy = async () => ({ allow: true });

const DECISION_TIMEOUT_MS = 2_000;
const MAX_DECISION_BYTES = 4_096;

/**
 * Asks the deployment's catalogue: `POST <url>` with `{ userId, familyId, role, mediaId }`; a 200
 * with `{ "allow": true }` admits, `{ "allow": false, "message"? }` refuses with its message.
 * Anything else (another status, a timeout, a body that is not that) is "cannot decide" (503):
 * nothing plays on a catalogue's silence.
 */
export function remotePolicy(url: string): AccessPolicy {
  return async (caller, mediaId) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: caller.userId, familyId: caller.familyId, role: caller.role, mediaId }),
      signal: AbortSignal.timeout(DECISION_TIMEOUT_MS),
      redirect: 'error',
    });
    const text = await response.text();
    if (response.status !== 200 || text.length > MAX_DECISION_BYTES) {
      throw new Error(`the access decision endpoint answered ${response.status}`);
    }
    const body = JSON.parse(text) as { allow?: unknown; message?: unknown };
    if (body.allow === true) return { allow: true };
    if (body.allow === false) {
      const message =
        typeof body.message === 'string' ? body.message.slice(0, 200) : 'you may not play this media item';
      return { allow: false, message };
    }
    throw new Error('the access decision endpoint answered without a boolean allow');
  };
}
