import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe } from '@nself-tv/media-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBitmapSubtitleSample, makeSample } from './clips.js';
import { writePgs } from './pgs.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sample-media-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sample media, as ffprobe reads it', () => {
  it('a clip with video, audio and an English subtitle', async () => {
    const file = await makeSample(dir, 'probe', 640, 360, { seconds: 8 });
    const info = await probe(file);
    expect(info.video).toMatchObject({ width: 640, height: 360, fps: 24 });
    expect(info.audio?.channels).toBe(1);
    expect(info.subtitles).toEqual([expect.objectContaining({ codec: 'subrip', language: 'eng' })]);
    expect(info.durationSeconds).toBeCloseTo(8, 1);
  });

  it('a clip whose only subtitle is PGS, and a PGS track drawn from text', async () => {
    const clip = await probe(await makeBitmapSubtitleSample(dir, 'bitmap'));
    expect(clip.subtitles).toEqual([expect.objectContaining({ codec: 'hdmv_pgs_subtitle', language: 'eng' })]);
    const sup = await writePgs(dir, 'cues.sup', [{ text: 'Hello', start: 1, end: 2 }], { width: 1920, height: 1080 });
    // A bare .sup is not a format the workers read (probe refuses it); its segments are checked here.
    const bytes = await readFile(sup);
    expect(bytes.subarray(0, 2).toString('latin1')).toBe('PG');
    const types: number[] = [];
    for (let at = 0; at < bytes.length; at += 13 + bytes.readUInt16BE(at + 11)) types.push(bytes.readUInt8(at + 10));
    // Shown (composition, window, palette, object, end), then cleared (composition, window, end).
    expect(types).toEqual([0x16, 0x17, 0x14, 0x15, 0x80, 0x16, 0x17, 0x80]);
  });
});
