import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS } from '@nself-tv/media-tools';
import type { JobPart } from '@nself-tv/queues';
import { foundMedia } from '@nself-tv/sample-media';
import { createFileStorage } from '@nself-tv/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcode } from './transcode.js';
import { runTranscodePart } from './transcode-part.js';
import { type PartOutput, readPlan, TRANSCODE_PLAN_VERSION, transcodePart } from './transcode-plan.js';

// A real clip (forensics-samples-files' x264 MP4, with AAC audio), transcoded in two chunks.
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vp-plan-'));
  await mkdir(join(root, 'media', 'uploads'), { recursive: true });
  const { 'hello-720p.mp4': clip } = foundMedia(['hello-720p.mp4']);
  await copyFile(clip, join(root, 'media', 'uploads', 'hello.mp4'));
}, 300_000);
afterAll(() => rm(root, { recursive: true, force: true }));

const payload = (prefix: string) => ({
  mediaId: 'hello',
  familyId: 'f',
  source: { bucket: 'media', key: 'uploads/hello.mp4' },
  output: { bucket: 'media', prefix },
});
const limits = { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS };
const options = { chunkSeconds: 2 };

/** A first run that stops where a queue would suspend it: what it planned, and its parts run here. */
async function firstRun(prefix: string) {
  const storage = createFileStorage({ root });
  let saved: { plan: unknown; parts: readonly JobPart[] } | undefined;
  const suspended = new Error('suspended for its parts');
  await transcode(
    payload(prefix),
    {
      progress: async () => undefined,
      signal: new AbortController().signal,
      runParts: async (parts, plan) => {
        saved = { plan: JSON.parse(JSON.stringify(plan)), parts };
        throw suspended;
      },
    },
    storage,
    limits,
    options,
  ).catch((error) => {
    if (error !== suspended) throw error;
  });
  if (!saved) throw new Error('the transcode planned no parts');
  const results: PartOutput[] = [];
  for (const part of saved.parts) {
    const ran = await runTranscodePart(
      transcodePart.parse(JSON.parse(JSON.stringify(part.data))),
      { progress: async () => undefined, signal: new AbortController().signal },
      storage,
    );
    results.push(JSON.parse(JSON.stringify(ran)));
  }
  return { plan: saved.plan as Record<string, unknown>, results, storage };
}

/** The plan as the release before versioned plans wrote it: no version, and (older still) no sound fields. */
function asWrittenBefore(plan: Record<string, unknown>, { beforeSound }: { beforeSound: boolean }) {
  const { version: _version, audioSettings, ...rest } = plan;
  if (!beforeSound) return { ...rest, audioSettings };
  return {
    ...rest,
    audio: (rest.audio as Record<string, unknown>[]).map(({ copyRefusal: _c, downmix: _d, ...track }) => track),
  };
}

describe('the transcode plan kept in Redis', () => {
  it('carries its version; one written before versions is upgraded and its assembly gives the same film', async () => {
    const { plan, results, storage } = await firstRun('hls/plan/');
    expect(plan.version).toBe(TRANSCODE_PLAN_VERSION);
    expect(readPlan(plan)).toEqual(readPlan(JSON.parse(JSON.stringify(plan))));

    const resume = (stored: unknown) =>
      transcode(
        payload('hls/plan/'),
        {
          progress: async () => undefined,
          signal: new AbortController().signal,
          resumed: { plan: stored, results },
        },
        storage,
        limits,
        options,
      );
    const now = await resume(plan);
    const master = await readFile(join(root, 'media', 'hls', 'plan', 'master.m3u8'), 'utf8');
    // Work queued before the deploy: the same parts' results, the plan in the old shape.
    const before = await resume(asWrittenBefore(plan, { beforeSound: false }));
    expect(before).toEqual(now);
    expect(await readFile(join(root, 'media', 'hls', 'plan', 'master.m3u8'), 'utf8')).toBe(master);

    // Older still, from before the sound work: upgraded to what that release did (level kept).
    const oldest = readPlan(asWrittenBefore(plan, { beforeSound: true }));
    expect(oldest.version).toBe(TRANSCODE_PLAN_VERSION);
    expect(oldest.audioSettings).toEqual({ loudness: null, truePeak: -1, downmix: 'itu', surround: null });
    expect(oldest.audio.every((a) => a.copyRefusal === null && a.downmix === null)).toBe(true);
    const resumedOldest = await resume(asWrittenBefore(plan, { beforeSound: true }));
    expect(resumedOldest.renditions).toEqual(now.renditions);
    expect(resumedOldest.audioTracks.every((t) => t.levelling === null)).toBe(true);
  }, 300_000);

  it('refuses a plan nobody wrote, naming the field, instead of reading it by cast', () => {
    expect(() => readPlan({ version: TRANSCODE_PLAN_VERSION, durationSeconds: 'long' })).toThrow(/durationSeconds/);
    expect(() => readPlan({ version: 99 })).toThrow(/version 99/);
    expect(() => readPlan(null)).toThrow(/does not parse/);
  });
});
