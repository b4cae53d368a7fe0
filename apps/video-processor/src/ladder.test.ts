import { describe, expect, it } from 'vitest';
import { planLadder } from './ladder.js';

const sizes = (w: number, h: number) => planLadder(w, h).map((r) => `${r.name} ${r.width}x${r.height}`);

describe('planLadder', () => {
  it('keeps every rung up to the source for 16:9 and never upscales', () => {
    expect(sizes(1920, 1080)).toEqual([
      '240p 426x240',
      '360p 640x360',
      '480p 854x480',
      '720p 1280x720',
      '1080p 1920x1080',
    ]);
    expect(sizes(1280, 720).at(-1)).toBe('720p 1280x720');
  });

  it('keeps the 1080p rung of a 1920x800 film, aspect ratio kept', () => {
    const plan = planLadder(1920, 800);
    expect(plan.map((r) => r.name)).toEqual(['240p', '360p', '480p', '720p', '1080p']);
    expect(plan.at(-1)).toMatchObject({ width: 1920, height: 800 });
    for (const r of plan) expect(Math.abs(r.width / r.height - 2.4) / 2.4).toBeLessThan(0.01);
  });

  it('gives portrait sources portrait boxes', () => {
    expect(sizes(1080, 1920)).toEqual([
      '240p 240x426',
      '360p 360x640',
      '480p 480x854',
      '720p 720x1280',
      '1080p 1080x1920',
    ]);
  });

  it('scales bitrate with the encoded pixels and honours an explicit list', () => {
    const wide = planLadder(1920, 800);
    expect(wide.at(-1)?.videoKbps).toBeLessThan(5000);
    expect(planLadder(3840, 2160, ['720p', '2160p']).map((r) => r.name)).toEqual(['720p', '2160p']);
  });

  it('keeps a source between two boxes at its own size on top, named for the box above', () => {
    // DVDs as shown (PAL 4:3 and 16:9, NTSC), web and phone sizes between the ladder's boxes.
    expect(sizes(768, 576)).toEqual(['240p 320x240', '360p 480x360', '480p 640x480', '720p 768x576']);
    expect(sizes(1024, 576)).toEqual(['240p 426x240', '360p 640x360', '480p 854x480', '720p 1024x576']);
    expect(sizes(640, 480)).toEqual(['240p 320x240', '360p 480x360', '480p 640x480']);
    expect(sizes(853, 480)).toEqual(['240p 426x240', '360p 640x360', '480p 854x480']);
    expect(sizes(960, 540).at(-1)).toBe('720p 960x540');
    expect(sizes(560, 320)).toEqual(['240p 420x240', '360p 560x320']);
    expect(sizes(320, 560)).toEqual(['240p 240x420', '360p 320x560']);
    expect(sizes(800, 600).at(-1)).toBe('720p 800x600');
    // A few lines over a box is that box, not a second rung of nearly the same size.
    expect(sizes(1300, 730).at(-1)).toBe('720p 1280x718');
    // Its bitrate is the box's, scaled to its pixels; a 576-line picture is under the 720p rate.
    const dvd = planLadder(1024, 576).at(-1);
    expect(dvd?.videoKbps).toBe(Math.round((2800 * 1024 * 576) / (1280 * 720)));
  });

  it('encodes a tiny source at its own size', () => {
    expect(sizes(320, 180)).toEqual(['240p 320x180']);
    expect(() => planLadder(0, 10)).toThrow();
  });
});
