/**
 * The chunk schedule, on BullMQ priorities alone (1 runs first; jobs of one priority in the
 * order they came). A transcode's priority is its class's base plus its place among its
 * family's transcodes in flight; its parts take the priorities just after it, in order:
 *
 *   priority = class base + rank × STRIDE + step   (step 0: the job itself, 1…: its parts)
 *
 * So every `interactive` ingest goes before every `bulk` one; within a class, each family's
 * first film in flight shares the front with the other families' first films (their chunks
 * interleave, chunk for chunk), its second film comes after those, and so on. A family that
 * queues hundreds of films cannot hold back another family's one: that film's first chunk
 * waits for the chunks already running and at most one chunk per family ahead of it.
 */
import { MAX_PRIORITY, PRIORITY_STRIDE } from '../runner/parts.js';

/** How soon an ingest wants its transcode: a film someone asked to watch now, or a library scan. */
export const PRIORITY_CLASSES = ['interactive', 'bulk'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

const CLASS_BASE: Record<PriorityClass, number> = { interactive: 1, bulk: MAX_PRIORITY / 2 };
/** Places in a class: a family's transcodes beyond the last share it, first come first served. */
export const MAX_RANK = Math.floor(MAX_PRIORITY / 2 / PRIORITY_STRIDE) - 1;

/** Priority of a transcode that is the `rank`-th (from 0) of its family in flight. */
export function transcodePriority(klass: PriorityClass, rank: number): number {
  return CLASS_BASE[klass] + Math.min(Math.max(0, Math.floor(rank)), MAX_RANK) * PRIORITY_STRIDE;
}
