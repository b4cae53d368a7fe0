import { ConfigError } from '@nself-tv/service/settings';
import { describe, expect, it } from 'vitest';
import { mediaToolSettings } from './settings.js';

describe('mediaToolSettings', () => {
  it('reads the tools and the frame limit, with PATH and 8K by default', () => {
    expect(mediaToolSettings.read({})).toEqual({
      tools: { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', tesseract: 'tesseract', maxMemoryMb: 4096 },
      maxVideoPixels: 33_177_600,
    });
    expect(mediaToolSettings.read({ FFMPEG_PATH: '/opt/ff/ffmpeg', FFMPEG_MAX_MEMORY_MB: '512' }).tools).toEqual({
      ffmpeg: '/opt/ff/ffmpeg',
      ffprobe: 'ffprobe',
      tesseract: 'tesseract',
      maxMemoryMb: 512,
    });
  });

  it('names every bad variable', () => {
    const error = (() => {
      try {
        mediaToolSettings.read({ FFMPEG_MAX_MEMORY_MB: '12', MAX_VIDEO_PIXELS: 'lots' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.problems.map((p) => p.variable)).toEqual(['FFMPEG_MAX_MEMORY_MB', 'MAX_VIDEO_PIXELS']);
  });
});
