import { MediaError } from '@nself-tv/media-tools';
import { useTestRedis } from '@nself-tv/test-redis';
import { Job } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createIngestService } from '../ingest/ingest-service.js';
import { ingestObserver } from '../ingest/observer.js';
import { transcodePriority } from '../ingest/schedule.js';
import { createProducer } from '../producer.js';
import type { JobResult, Payload } from '../schemas/registry.js';
import { queueTestKit, retryPolicy, transcodeJob, waitFor } from '../test-helpers.js';
import { PRIORITY_STRIDE, partProcessor } from './parts.js';
import { createQueueWorker, type QueueWorker } from './worker.js';

const redis = useTestRedis();
const kit = queueTestKit(redis);
const producer = createProducer({ connection: kit.requestConnection(), keyspace: kit.keyspace });
const ingest = createIngestService({ connection: kit.requestConnection(), producer, keyspace: kit.keyspace });

const result = (p: Payload<'video:transcode'>, segments: number): JobResult<'video:transcode'> => ({
  masterPlaylistKey: `${p.output.prefix}master.m3u8`,
  durationSeconds: segments * 4,
  source: {
    ...{ width: 640, height: 360, codec: 'h264', hasAudio: false, codedWidth: 640, codedHeight: 360 },
    ...{ sampleAspectRatio: 1, rotation: 0, hflip: false, vflip: false, hdr: null, bitDepth: 8 },
    colour: { primaries: null, transfer: null, matrix: null },
    ...{ fieldOrder: 'progressive', deinterlaced: false, fps: 24, audioTracks: 0 },
    videoCopy: { copied: true, reasons: [], colourTags: 'source' as const },
  },
  audioTracks: [],
  renditions: [],
});

/** What the parts of each job did: which worker ran which part, in what order, and any overlap under the lock. */
const ran: { worker: string; job: string; part: number; start: number; end: number }[] = [];
let inLock = 0;
let lockOverlap = 0;
const failing = new Set<string>();
const slow = new Set<string>();

const workers: QueueWorker[] = [];
const startWorker = (name: string) => {
  const worker = createQueueWorker(
    'video:transcode',
    async (payload, ctx) => {
      if (ctx.resumed) {
        if (payload.mediaId === 'assembly-breaks') throw new MediaError('NOT_DECODABLE', 'the assembly broke');
        const plan = ctx.resumed.plan as { parts: number };
        expect(ctx.resumed.results).toEqual(Array.from({ length: plan.parts }, (_, i) => i * 10));
        return result(payload, plan.parts);
      }
      const parts = payload.mediaId.startsWith('many') ? 6 : 3;
      const list = Array.from({ length: parts }, (_, i) => ({ key: `p${i}`, data: { n: i } }));
      const results = await ctx.runParts(list, { parts });
      return result(payload, results.length);
    },
    {
      connection: kit.workerConnection(),
      keyspace: kit.keyspace,
      progressIntervalMs: 0,
      producer,
      retryPolicy,
      observers: [ingestObserver({ ingest, producer })],
      parts: partProcessor({
        parse: (data) => data as { n: number },
        async run(data, ctx, parent) {
          const start = Date.now();
          if (failing.has(parent.jobId)) throw new Error(`part ${data.n} broke`);
          // A slow part reports as it goes, as ffmpeg does; each report reads the ingest.
          for (let step = 0; step < (slow.has(parent.jobId) ? 30 : 1); step++) {
            if (ctx.signal.aborted) throw ctx.signal.reason;
            await ctx.progress(step);
            await new Promise((r) => setTimeout(r, 100));
          }
          ran.push({ worker: name, job: parent.jobId, part: data.n, start, end: Date.now() });
          return data.n * 10;
        },
        async completed(_data, _result, parent) {
          await parent.exclusive(async () => {
            inLock++;
            if (inLock > 1) lockOverlap++;
            await new Promise((r) => setTimeout(r, 20));
            inLock--;
          });
          return undefined;
        },
      }),
    },
  );
  workers.push(worker);
  return worker;
};
startWorker('one');
startWorker('two');
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close(1000)));
  await producer.close();
});

const queue = () => producer.queue('video:transcode');

describe('a job split into parts (BullMQ waiting-children)', () => {
  it('runs its parts on every worker, then runs again with their results in order', async () => {
    const id = await producer.enqueue('video:transcode', transcodeJob('many'), { jobId: 'split-1' });
    await waitFor(async () => ((await (await Job.fromId(queue(), id))?.getState()) === 'completed' ? true : undefined));
    const job = await Job.fromId(queue(), id);
    expect(job?.returnvalue.durationSeconds).toBe(24);
    const mine = ran.filter((r) => r.job === id);
    expect(mine.map((r) => r.part).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(mine.map((r) => r.worker)).size).toBe(2);
    // The parts' hook ran under one lock shared by both workers.
    expect(lockOverlap).toBe(0);
  });

  it("an ingest's parts follow its priority in order; a part's final failure fails the job and the stage", async () => {
    failing.add('broken-transcode');
    await ingest.start({ ...transcodeJob('broken'), ingestId: 'broken', priority: 'bulk' });
    const state = await waitFor(async () => {
      const s = await ingest.get('broken');
      return s?.status === 'failed' ? s : undefined;
    });
    expect(state.error).toMatch(/^transcode: a part failed: part \d broke/);
    // The worker fails the ingest before it hands the part back to BullMQ, which then fails the
    // parent: the parent's state follows a moment later (CI on Node 20 saw it still waiting).
    await waitFor(async () => (await (await Job.fromId(queue(), 'broken-transcode'))?.getState()) === 'failed');
    const parts = await Promise.all([0, 1, 2].map((i) => Job.fromId(queue(), `broken-transcode-p${i}`)));
    const base = transcodePriority('bulk', 0);
    expect(parts.map((p) => p?.opts.priority)).toEqual([base + 1, base + 2, base + 3]);
    // The family's schedule no longer holds it.
    expect(await kit.requestConnection().zscore(kit.keyspace.ingestActive('fam1'), 'broken')).toBeNull();
  });

  it('a failure of the run after the parts fails the stage it is in', async () => {
    await ingest.start({ ...transcodeJob('assembly-breaks'), ingestId: 'assembly-breaks' });
    const state = await waitFor(async () => {
      const s = await ingest.get('assembly-breaks');
      return s?.status === 'failed' ? s : undefined;
    });
    expect(state.error).toBe('transcode: the assembly broke');
    expect(state.stages.find((s) => s.name === 'probe')?.status).toBe('completed');
  });

  it("a family's second film waits behind its first; another family's first film goes beside it", async () => {
    const a1 = await ingest.start({ ...transcodeJob('fair-a1'), ingestId: 'fair-a1', priority: 'bulk' });
    const a2 = await ingest.start({ ...transcodeJob('fair-a2'), ingestId: 'fair-a2', priority: 'bulk' });
    const b1 = await ingest.start({
      ...transcodeJob('fair-b1'),
      familyId: 'fam2',
      ingestId: 'fair-b1',
      priority: 'bulk',
    });
    const now = await ingest.start({ ...transcodeJob('fair-now'), familyId: 'fam3', ingestId: 'fair-now' });
    const prio = async (s: { ingestId: string }) =>
      (await Job.fromId(queue(), `${s.ingestId}-transcode`))?.opts.priority;
    expect(await prio(a2)).toBe(((await prio(a1)) as number) + PRIORITY_STRIDE);
    expect(await prio(b1)).toBe(await prio(a1));
    expect(await prio(now)).toBeLessThan((await prio(a1)) as number);
  });

  it('cancelling an ingest removes its waiting parts and stops its running ones', async () => {
    slow.add('cancel-me-transcode');
    await ingest.start({ ...transcodeJob('many-cancel'), ingestId: 'cancel-me' });
    await waitFor(
      async () => ran.some((r) => r.job === 'cancel-me-transcode') || (await anyActivePart('cancel-me-transcode')),
    );
    const state = await ingest.cancel('cancel-me');
    expect(state.status).toBe('cancelled');
    await waitFor(async () => !(await anyActivePart('cancel-me-transcode')));
    const left = await Promise.all(
      Array.from({ length: 6 }, (_, i) => Job.fromId(queue(), `cancel-me-transcode-p${i}`).then((j) => j?.getState())),
    );
    // None waits any more: the waiting ones are gone, the running ones failed as cancelled.
    for (const s of left) expect(['waiting', 'prioritized', 'active', 'completed']).not.toContain(s);
  });
});

async function anyActivePart(parentId: string) {
  for (let i = 0; i < 6; i++) {
    if ((await (await Job.fromId(queue(), `${parentId}-p${i}`))?.getState()) === 'active') return true;
  }
  return false;
}
