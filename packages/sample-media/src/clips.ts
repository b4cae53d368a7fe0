// Test and demo media made with real ffmpeg (lavfi sources): nothing is downloaded.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FFMPEG_PRELUDE, run, tools } from '@nself-tv/media-tools';
import { segment } from './pgs.js';

/**
 * A `seconds`-long clip of `width`x`height` at 24 fps with a 440 Hz tone and,
 * unless `subtitles` is false, an English SRT track muxed in (Matroska).
 */
export async function makeSample(
  dir: string,
  name: string,
  width: number,
  height: number,
  options: { seconds?: number; subtitles?: boolean; audio?: boolean } = {},
): Promise<string> {
  const seconds = options.seconds ?? 9;
  const out = join(dir, `${name}.mkv`);
  const args = [...FFMPEG_PRELUDE, '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=24:duration=${seconds}`];
  if (options.audio !== false) args.push('-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`);
  if (options.subtitles !== false) {
    const srt = join(dir, `${name}.srt`);
    await writeFile(
      srt,
      '1\n00:00:01,000 --> 00:00:03,000\nHello from nself-tv\n\n2\n00:00:04,000 --> 00:00:06,500\nSecond cue\n',
    );
    args.push('-i', srt);
  }
  args.push('-map', '0:v');
  if (options.audio !== false) args.push('-map', '1:a');
  if (options.subtitles !== false)
    args.push('-map', `${options.audio !== false ? 2 : 1}:s`, '-metadata:s:s:0', 'language=eng');
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  // PCM, not AAC: AAC's encoder delay would shift the muxed subtitle cues by ~23 ms.
  if (options.audio !== false) args.push('-c:a', 'pcm_s16le');
  if (options.subtitles !== false) args.push('-c:s', 'srt');
  args.push(out);
  await run(tools.ffmpeg, args);
  return out;
}

/**
 * A clip whose only subtitle track is bitmap (Blu-ray PGS, `hdmv_pgs_subtitle`).
 * ffmpeg cannot turn text into bitmap subtitles, so the `.sup` stream is
 * written here: two display sets (a presentation segment and an end segment each).
 */
export async function makeBitmapSubtitleSample(dir: string, name: string): Promise<string> {
  const pcs = (n: number, state: number) => {
    const b = Buffer.alloc(11);
    b.writeUInt16BE(640, 0);
    b.writeUInt16BE(360, 2);
    b.writeUInt8(0x10, 4);
    b.writeUInt16BE(n, 5);
    b.writeUInt8(state, 7);
    return b;
  };
  const sup = join(dir, `${name}.sup`);
  await writeFile(
    sup,
    Buffer.concat([
      segment(0x16, 90_000, [...pcs(0, 0x80)]),
      segment(0x80, 90_000, []),
      segment(0x16, 180_000, [...pcs(1, 0)]),
      segment(0x80, 180_000, []),
    ]),
  );
  const out = join(dir, `${name}.mkv`);
  await run(tools.ffmpeg, [
    ...FFMPEG_PRELUDE,
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=24:duration=3',
    '-i',
    sup,
    '-map',
    '0:v',
    '-map',
    '1:s',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-c:s',
    'copy',
    '-metadata:s:s:0',
    'language=eng',
    out,
  ]);
  return out;
}
