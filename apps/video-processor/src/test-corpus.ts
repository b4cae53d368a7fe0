// Shared by this app's tests only: the kinds of file a self-hosted library is made of, made
// with ffmpeg at test time (lavfi sources, no downloads), each with what it should become.
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, tools } from '@nself-tv/media-tools';

const ff = (...args: string[]) => run(tools.ffmpeg, ['-hide_banner', '-v', 'error', '-y', ...args]);
/** A picture whose corners differ, so orientation mistakes show. */
const picture = (size: string, rate: number, seconds: number) => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`,
];
const tone = (seconds: number, layout = 'stereo', frequency = 440) => [
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=${frequency}:duration=${seconds}:sample_rate=48000,aformat=channel_layouts=${layout}`,
];

/**
 * Rewrites the first video track's `tkhd` matrix of an MP4 (what phones use
 * for rotation; ffmpeg 5.1 cannot write a mirrored one): `a b c d` in 16.16.
 */
export async function setTrackMatrix(file: string, a: number, b: number, c: number, d: number, tx: number) {
  const bytes = await readFile(file);
  const at = bytes.indexOf(Buffer.from('tkhd'));
  if (at < 4) throw new Error('no tkhd box');
  const version = bytes[at + 4];
  // size+type (8), version/flags (4), times and ids (v0: 20, v1: 32), reserved (8), layer..volume (8).
  const matrix = at - 4 + 8 + 4 + (version === 1 ? 32 : 20) + 8 + 8;
  const fixed = (v: number) => Math.round(v * 65536);
  const values = [fixed(a), fixed(b), 0, fixed(c), fixed(d), 0, fixed(tx), 0, 0x40000000];
  values.forEach((v, i) => {
    bytes.writeInt32BE(v, matrix + i * 4);
  });
  const handle = await open(file, 'r+');
  try {
    await handle.write(bytes, matrix, 36, matrix);
  } finally {
    await handle.close();
  }
}

export async function makeCorpus(dir: string) {
  const files: Record<string, string> = {};
  const out = (name: string) => {
    files[name] = join(dir, name);
    return files[name] as string;
  };
  // Phone: portrait through a display matrix, variable frame rate (every fifth frame dropped).
  await ff(
    ...picture('1920x1080', 30, 4),
    ...tone(4),
    '-vf',
    "select='not(eq(mod(n\\,5)\\,4))'",
    '-vsync',
    'vfr',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-c:a',
    'aac',
    join(dir, 'phone-raw.mp4'),
  );
  await ff('-i', join(dir, 'phone-raw.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out('phone.mp4'));
  // A front camera's mirrored picture: the pixels stored mirrored, the matrix mirrors them back.
  await ff(...picture('640x360', 25, 2), '-vf', 'hflip', '-c:v', 'libx264', '-preset', 'ultrafast', out('mirror.mp4'));
  await setTrackMatrix(files['mirror.mp4'] as string, -1, 0, 0, 1, 640);
  // DVD rip: 720x480 anamorphic 16:9 (SAR 32:27), MPEG-2 in MPEG-PS, 5.1 AC-3, BT.601.
  await ff(
    ...picture('720x480', 30000 / 1001, 4),
    ...tone(4, '5.1'),
    '-vf',
    'setsar=32/27',
    '-c:v',
    'mpeg2video',
    '-b:v',
    '4M',
    '-color_primaries',
    'smpte170m',
    '-color_trc',
    'smpte170m',
    '-colorspace',
    'smpte170m',
    '-c:a',
    'ac3',
    '-f',
    'dvd',
    out('dvd.vob'),
  );
  // Film with two audio tracks (English default, French 5.1 dub) and an English subtitle.
  await writeFile(
    join(dir, 'film.srt'),
    '1\n00:00:00,500 --> 00:00:02,000\nHello there.\n\n2\n00:00:02,500 --> 00:00:03,500\nGoodbye.\n',
  );
  await ff(
    ...picture('1280x544', 24, 4),
    ...tone(4, 'stereo', 440),
    ...tone(4, '5.1', 660),
    '-i',
    join(dir, 'film.srt'),
    ...['-map', '0:v', '-map', '1:a', '-map', '2:a', '-map', '3:s'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-c:s', 'srt'],
    ...['-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fra', '-metadata:s:a:1', 'title=Français'],
    ...['-metadata:s:s:0', 'language=eng', '-disposition:a:0', 'default', '-disposition:a:1', '0'],
    out('film.mkv'),
  );
  // HDR10 (HEVC Main 10, BT.2020, PQ) and HLG.
  for (const [name, transfer] of [
    ['hdr10.mkv', 'smpte2084'],
    ['hlg.mkv', 'arib-std-b67'],
  ] as const) {
    await ff(
      ...picture('1280x720', 24, 2),
      '-vf',
      'format=yuv420p10le',
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-x265-params',
      `log-level=error:colorprim=bt2020:transfer=${transfer}:colormatrix=bt2020nc`,
      '-color_primaries',
      'bt2020',
      '-color_trc',
      transfer,
      '-colorspace',
      'bt2020nc',
      out(name),
    );
  }
  // Interlaced 1080i broadcast recording: 25 frames (50 fields) a second, top field first, MPEG-TS.
  await ff(
    ...picture('1920x1080', 50, 3),
    ...tone(3),
    '-vf',
    'interlace=scan=tff,setfield=tff',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-flags',
    '+ildct+ilme',
    '-x264opts',
    'tff=1',
    '-c:a',
    'aac',
    out('broadcast.ts'),
  );
  // The same interlaced picture in a codec and container that do not say (MJPEG in AVI): idet decides.
  await ff(
    ...picture('720x576', 50, 3),
    '-vf',
    'interlace=scan=tff',
    '-c:v',
    'mjpeg',
    '-q:v',
    '3',
    out('unflagged.avi'),
  );
  // Cover art first, the real video second, at an odd size (FFV1 keeps 853x479 as it is).
  await ff(...picture('320x320', 1, 1), '-frames:v', '1', join(dir, 'cover.png'));
  await ff(
    ...['-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=25:duration=3,scale=853:479,setsar=1'],
    '-i',
    join(dir, 'cover.png'),
    ...[
      '-map',
      '1:v',
      '-map',
      '0:v',
      '-c:v:0',
      'png',
      '-disposition:v:0',
      'attached_pic',
      '-c:v:1',
      'ffv1',
      '-pix_fmt:v:1',
      'yuv444p',
    ],
    out('cover.mkv'),
  );
  // Shorter than one segment, without audio.
  await ff(...picture('640x360', 25, 1.5), '-c:v', 'libx264', out('short.mp4'));
  return files;
}
