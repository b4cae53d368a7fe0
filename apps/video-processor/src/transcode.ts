// The `video:transcode` processor: probe, plan, parts, assembly, each in its own module.
import type { MediaLimits } from '@nself-tv/media-tools';
import type { JobContext, JobResult, Payload } from '@nself-tv/queues';
import { type MediaStorage, withLocalFile } from '@nself-tv/storage';
import { assemble } from './assembly.js';
import { partsOf, planTranscode, type TranscodeOptions } from './plan-transcode.js';
import { probeSource, storeStill } from './probe-source.js';
import { runTranscodePart } from './transcode-part.js';
import { type PartOutput, readPlan, type TranscodePart, type TranscodePlan, transcodePart } from './transcode-plan.js';

/**
 * The `video:transcode` processor. The first run probes the source and plans the film as
 * parts: one per chunk of the video and one for the audio, run as child jobs by every worker
 * of the queue (see {@link runTranscodePart}). The run after them checks the stored segments
 * and writes the final playlists. Called without `runParts` (in a test, a script), it runs
 * the parts itself, one after the other.
 */
export async function transcode(
  payload: Payload<'video:transcode'>,
  job: Pick<JobContext, 'progress' | 'signal'> & Partial<Pick<JobContext, 'runParts' | 'resumed' | 'exclusive'>>,
  storage: MediaStorage,
  limits: MediaLimits,
  options: TranscodeOptions = {},
): Promise<JobResult<'video:transcode'>> {
  if (job.resumed) {
    return assemble(payload, readPlan(job.resumed.plan), job.resumed.results as PartOutput[], job, storage);
  }
  await job.progress(0, 'probe');
  const { plan, parts } = await withLocalFile(storage, payload.source, async (input) => {
    const source = await probeSource(input, payload, limits, job.signal);
    const hasStill = await storeStill(input, source, payload.output, storage, job.signal);
    await job.progress(100, 'probe');
    const planned = await planTranscode(input, source, payload, options, hasStill, job.signal);
    return { plan: planned.plan, parts: partsOf(payload, source, planned) };
  });
  const results = await runParts(parts, plan, job, storage);
  return assemble(payload, plan, results, job, storage);
}

/**
 * Step 6: the parts run as jobs of their own on every video-processor (`runParts`), or, without a
 * queue (tests, benches), one after another here.
 */
async function runParts(
  parts: { key: string; order: number; data: TranscodePart }[],
  plan: TranscodePlan,
  job: Pick<JobContext, 'progress' | 'signal'> & Partial<Pick<JobContext, 'runParts'>>,
  storage: MediaStorage,
): Promise<PartOutput[]> {
  if (job.runParts) return (await job.runParts(parts, plan)) as PartOutput[];
  const results: PartOutput[] = [];
  for (const [i, part] of parts.entries()) {
    results.push(
      await runTranscodePart(
        transcodePart.parse(part.data),
        { signal: job.signal, progress: async () => undefined },
        storage,
      ),
    );
    await job.progress(((i + 1) / parts.length) * 99);
  }
  return results;
}
