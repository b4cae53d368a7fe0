// The growing playlists: a film playable while its later chunks are still being encoded.
import type { OutputLocation, PartParent } from '@nself-tv/queues';
import type { MediaStorage } from '@nself-tv/storage';
import { itemKey } from '@nself-tv/storage';
import { filmSegments } from './assembly.js';
import { filmPlaylists, storePlaylists } from './playlists.js';
import { chunkKey, type PartOutput, readPlan } from './transcode-plan.js';

/**
 * After a part has completed: publishes the film's growing playlists once its audio and the
 * first chunk of every rung are stored, and extends them as the chunks that follow in order
 * complete. Returns true when this call made the film playable (its first master).
 */
export async function publishGrowing(
  parent: PartParent,
  storage: MediaStorage,
  output: OutputLocation,
): Promise<boolean> {
  const published = await parent.exclusive(async () => {
    const stored = await parent.plan();
    if (stored === undefined) return false;
    const plan = readPlan(stored);
    const done = await parent.completedParts();
    const audio = done.get('audio') as PartOutput | undefined;
    if (plan.audio.length > 0 && !audio) return false;
    const chunks: PartOutput[] = [];
    for (let i = 0; i < plan.chunks; i++) {
      const c = done.get(chunkKey(i)) as PartOutput | undefined;
      if (!c) break;
      chunks.push(c);
    }
    if (chunks.length === 0 || chunks.length === plan.chunks) return false;
    const { rungs, audioOut, surroundOut } = filmSegments(plan, chunks, audio);
    const first = rungs[0];
    if (!first) return false;
    const hadMaster = await storage.stat({ bucket: output.bucket, key: itemKey(output.prefix, 'master') });
    const wrote = await storePlaylists(storage, output, filmPlaylists(rungs, audioOut, plan.fps, false, surroundOut), {
      ended: false,
      firstRung: first.name,
      segmentCount: first.segments.length,
    });
    return wrote && hadMaster === undefined;
  });
  return published === true;
}
