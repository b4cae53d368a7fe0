import { describe, expect, it } from 'vitest';
import { AUDIO_CODECS, avc1Codec, highProfileCodec } from './codecs.js';

describe('codec strings', () => {
  it('are RFC 6381 as HLS and MSE read them', () => {
    // Constrained Baseline 3.0 as a phone writes it, and the High levels the encoder uses.
    expect(avc1Codec(66, 0xc0, 30)).toBe('avc1.42c01e');
    expect(['3.2', '4.2', '5.2'].map(highProfileCodec)).toEqual(['avc1.640020', 'avc1.64002a', 'avc1.640034']);
    expect(AUDIO_CODECS).toEqual({ aac: 'mp4a.40.2', ac3: 'ac-3', eac3: 'ec-3' });
  });
});
