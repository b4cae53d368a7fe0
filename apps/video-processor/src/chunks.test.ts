import { describe, expect, it } from 'vitest';
import { gopFrames, planChunks, SEGMENT_SECONDS } from './chunks.js';

const seconds = (frames: number, fps: number) => Math.round((frames / fps) * 1000) / 1000;

describe('planChunks', () => {
  it('tiles the film on segment boundaries: 8 s first, doubling up to the setting, a short tail joined', () => {
    const fps = 24000 / 1001;
    const { segment } = gopFrames(fps);
    const duration = 7200.5;
    const spans = planChunks(duration, fps, 60);
    const total = Math.round(duration * fps);
    let next = 0;
    for (const [i, s] of spans.entries()) {
      expect(s.index).toBe(i);
      expect(s.startFrame).toBe(next);
      expect(s.startFrame % segment).toBe(0);
      expect(s.firstSegment).toBe(s.startFrame / segment);
      next = s.endFrame ?? total;
      expect(s.frames).toBe(next - s.startFrame);
    }
    expect(next).toBe(total);
    expect(spans.at(-1)?.endFrame).toBeNull();
    // 8, 16, 32 s of segments (48 frames a 2 s GOP at 23.976 fps), then 60 s.
    const lengths = spans.slice(0, 5).map((s) => seconds(s.frames, fps));
    expect(lengths).toEqual(
      [8 * 1.001, 16 * 1.001, 32 * 1.001, 60 * 1.001, 60 * 1.001].map((x) => Math.round(x * 1000) / 1000),
    );
    // About 60 s each after the ramp: a 2 h film has some 120 chunks, not 900.
    expect(spans.length).toBeGreaterThan(115);
    expect(spans.length).toBeLessThan(125);
  });

  it('makes one chunk of a film shorter than the first, and keeps small settings as they are', () => {
    expect(planChunks(5, 25, 60)).toEqual([{ index: 0, startFrame: 0, endFrame: null, firstSegment: 0, frames: 125 }]);
    const small = planChunks(40, 25, SEGMENT_SECONDS);
    expect(small).toHaveLength(10);
    expect(small.every((s) => s.frames === 100)).toBe(true);
  });

  it('cuts a copied film on the segment starts it is given (the source keyframes), with the same ramp', () => {
    // Segments of 4 to 10 s at no pattern, as a source's own keyframes make them, over 10 minutes at 25 fps.
    const boundaries = [0];
    for (let i = 1, f = 0; f < 600 * 25 - 250; i++) {
      f += 100 + ((i * 37) % 151);
      boundaries.push(f);
    }
    const spans = planChunks(600, 25, 60, boundaries);
    let next = 0;
    for (const s of spans) {
      expect(s.startFrame).toBe(next);
      expect(s.startFrame === 0 || boundaries.includes(s.startFrame)).toBe(true);
      expect(s.firstSegment).toBe(boundaries.indexOf(s.startFrame === 0 ? 0 : s.startFrame));
      next = s.endFrame ?? 600 * 25;
    }
    // The first chunk two segments, the later ones about a minute.
    expect(spans[0]?.endFrame).toBe(boundaries[2]);
    const middle = spans.slice(3, -1).map((s) => s.frames / 25);
    for (const d of middle) expect(d).toBeGreaterThan(40);
    for (const d of middle) expect(d).toBeLessThan(90);
  });

  it('makes one chunk of the whole film with 0 (one pass)', () => {
    expect(planChunks(7200, 25, 0)).toEqual([
      { index: 0, startFrame: 0, endFrame: null, firstSegment: 0, frames: 180_000 },
    ]);
  });
});
