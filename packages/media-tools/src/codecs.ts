/**
 * RFC 6381 codec strings, as HLS `CODECS` attributes and MSE's `isTypeSupported` want them: built
 * here and nowhere else (an fMP4/CMAF output adds its own here too).
 */

const hex = (n: number) => n.toString(16).padStart(2, '0');

/** `avc1.PPCCLL`: H.264 from its SPS's profile_idc, constraint flags and level_idc. */
export function avc1Codec(profileIdc: number, constraintFlags: number, levelIdc: number): string {
  return `avc1.${hex(profileIdc)}${hex(constraintFlags)}${hex(levelIdc)}`;
}

/** H.264 High profile's profile_idc. */
export const H264_HIGH = 100;

/** `avc1` of an H.264 High stream the encoder writes at `level` (`4.2` → level_idc 42). */
export function highProfileCodec(level: string): string {
  return avc1Codec(H264_HIGH, 0, Math.round(Number(level) * 10));
}

/** The audio codecs a rendition can have, by ffmpeg's encoder family. */
export const AUDIO_CODECS = { aac: 'mp4a.40.2', ac3: 'ac-3', eac3: 'ec-3' } as const;
