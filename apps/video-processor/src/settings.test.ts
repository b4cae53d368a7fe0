import { ConfigError } from '@nself-tv/service/settings';
import { describe, expect, it } from 'vitest';
import { videoSettings } from './settings.js';

describe('videoSettings', () => {
  it('reads the transcode, audio and OCR settings, with their defaults', () => {
    expect(videoSettings.read({})).toEqual({
      transcode: {
        chunkSeconds: 60,
        crf: 21,
        copy: true,
        audio: { loudness: -18, truePeak: -1, downmix: 'dialogue', surround: 'ac3' },
      },
      subtitleOcr: true,
      subtitleCharset: 'windows-1252',
    });
    const set = videoSettings.read({
      TRANSCODE_CHUNK_SECONDS: '0',
      TRANSCODE_CRF: 'off',
      TRANSCODE_COPY: 'off',
      AUDIO_LOUDNESS: 'off',
      AUDIO_TRUE_PEAK: '-2.5',
      AUDIO_DOWNMIX: 'itu',
      AUDIO_SURROUND: 'off',
      SUBTITLE_OCR: 'false',
      SUBTITLE_CHARSET: 'windows-1256',
    });
    expect(set).toEqual({
      transcode: {
        chunkSeconds: 0,
        crf: null,
        copy: false,
        audio: { loudness: null, truePeak: -2.5, downmix: 'itu', surround: null },
      },
      subtitleOcr: false,
      subtitleCharset: 'windows-1256',
    });
  });

  it.each([
    // 0 is one pass; below 4 s a chunk would be mostly start-up and preroll.
    [{ TRANSCODE_CHUNK_SECONDS: '2' }, /^TRANSCODE_CHUNK_SECONDS: must be 0 \(one pass\) or 4 to 600$/],
    [{ TRANSCODE_CHUNK_SECONDS: '601' }, /^TRANSCODE_CHUNK_SECONDS: /],
    // x264's CRF runs 0–51, 0 being lossless (never what a ladder wants); `off` is fixed bitrates.
    [{ TRANSCODE_CRF: '0' }, /^TRANSCODE_CRF: must be off or a CRF from 1 to 51$/],
    [{ TRANSCODE_CRF: '22.5' }, /^TRANSCODE_CRF: /],
    [{ TRANSCODE_COPY: 'maybe' }, /^TRANSCODE_COPY: expected on or off/],
    // A loudness target is negative LUFS; 0 or a positive number is a mistake, not a level.
    [{ AUDIO_LOUDNESS: '-3' }, /^AUDIO_LOUDNESS: must be off or a loudness from -40 to -5/],
    [{ AUDIO_LOUDNESS: '18' }, /^AUDIO_LOUDNESS: /],
    [{ AUDIO_TRUE_PEAK: '1' }, /^AUDIO_TRUE_PEAK: must be a true peak from -9 to 0/],
    [{ AUDIO_DOWNMIX: 'nightmode' }, /^AUDIO_DOWNMIX: must be dialogue or itu/],
    [{ AUDIO_SURROUND: 'dts' }, /^AUDIO_SURROUND: must be ac3, eac3 or off/],
    [{ SUBTITLE_OCR: 'sometimes' }, /^SUBTITLE_OCR: expected on or off/],
    [{ SUBTITLE_CHARSET: 'klingon-8' }, /^SUBTITLE_CHARSET: must be a charset label/],
  ])('refuses %o, naming the variable', (env, message) => {
    expect(() => videoSettings.read(env)).toThrow(ConfigError);
    expect(() => videoSettings.read(env)).toThrow(message);
  });
});
