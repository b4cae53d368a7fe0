import { readFileSync } from 'node:fs';
import { MAX_ID_LENGTH } from '@nself-tv/redis-keys';
import { describe, expect, it } from 'vitest';
import {
  firstIngestJob,
  INGEST_PIPELINE,
  type IngestStageName,
  ingestJobOf,
  PLAYABLE_STAGE,
  renderStageTable,
  SCHEDULED_STAGE,
  stagesAfter,
} from './pipeline.js';
import { initialStages, MAX_INGEST_ID_LENGTH } from './state.js';

describe('the declared ingest pipeline', () => {
  it('has bands that tile 0–100 in order, and waits only for stages declared before', () => {
    let at = 0;
    const seen = new Set<string>();
    for (const stage of INGEST_PIPELINE) {
      expect(stage.band[0], stage.name).toBe(at);
      expect(stage.band[1], stage.name).toBeGreaterThan(stage.band[0]);
      at = stage.band[1];
      for (const before of stage.after) expect(seen.has(before), `${stage.name} waits for ${before}`).toBe(true);
      seen.add(stage.name);
    }
    expect(at).toBe(100);
  });

  it('starts with the transcode job, which probes, then transcodes in parts, and plays', () => {
    expect(firstIngestJob()).toEqual({ queue: 'video:transcode', stages: ['probe', 'transcode'], main: 'transcode' });
    expect(SCHEDULED_STAGE).toBe('transcode');
    expect(PLAYABLE_STAGE).toBe('transcode');
    expect(ingestJobOf('image:optimize')).toBeUndefined();
    expect(ingestJobOf('image:poster')).toEqual({ queue: 'image:poster', stages: ['posters'], main: 'posters' });
  });

  it('fans out to the four stages of other queues that wait for the transcode, not to external ones', () => {
    expect(stagesAfter('transcode')).toEqual(['trickplay', 'subtitles', 'posters', 'sprites']);
    // probe is a phase of the transcode's own job, so nothing is enqueued for it.
    expect(stagesAfter('probe')).toEqual([]);
  });

  it('gives every stage a job id within the id rule', () => {
    for (const { name } of INGEST_PIPELINE) {
      expect(`${'i'.repeat(MAX_INGEST_ID_LENGTH)}-${name}`.length).toBeLessThanOrEqual(MAX_ID_LENGTH);
    }
  });

  it('is what a new ingest state lists: bands, fatality, external stages skipped unless asked for', () => {
    const stages = initialStages(['database']);
    expect(stages.map((s) => [s.name, s.from, s.to, s.fatal])).toEqual(
      INGEST_PIPELINE.map((s) => [s.name, s.band[0], s.band[1], s.fatal]),
    );
    const status = (name: IngestStageName) => stages.find((s) => s.name === name)?.status;
    expect([status('validate'), status('database'), status('index'), status('probe')]).toEqual([
      'completed',
      'pending',
      'skipped',
      'pending',
    ]);
  });

  it('is the stage table of the README (pnpm readme:tables renders it)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = /<!-- stages:start -->\n([\s\S]*?)\n<!-- stages:end -->/.exec(readme)?.[1];
    expect(table).toBe(renderStageTable());
  });
});
