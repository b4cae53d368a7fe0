// What the sound and the picture subtitles cost, per minute of film, in one run: a film with a 5.1
// track (FLAC, as in many rips) and a Blu-ray PGS subtitle track of 15 cues a minute (a talky
// film has 10 to 20), on a small picture so the video's own cost stays out of the way.
// - Loudness: the measuring pass alone (every track decoded once, ebur128 on it as it is and as its
//   stereo downmix), against a plain decode of the same track; and the film transcoded with
//   AUDIO_LOUDNESS off and on (both measure, for the result; on also applies the gain).
// - OCR: the subtitle stage over the PGS track (extraction and tesseract).
// Usage: node bench/sound.bench.mjs [--quick]   (after pnpm build)
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, tools } from '@nself-tv/media-tools';
import { writePgs } from '@nself-tv/sample-media';
import { createFileStorage } from '@nself-tv/storage';
import { DEFAULT_AUDIO, measureArgs, subtitles, transcode } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const MINUTES = quick ? 1 : 4;
const SECONDS = MINUTES * 60;
const root = await mkdtemp(join(tmpdir(), 'vp-sound-'));
process.on('exit', () => spawnSync('rm', ['-rf', root]));
const uploads = join(root, 'media', 'uploads');
await mkdir(uploads, { recursive: true });
const storage = createFileStorage({ root });
const ffmpeg = (args) => run(tools.ffmpeg, ['-hide_banner', '-v', 'error', '-y', ...args]);

const lines = [
  'Where were you last night?',
  'I told you, I was at the station\nuntil half past eleven.',
  'Nobody saw you there.',
  'Then ask the driver, he knows me.',
  'We did. He left at ten.',
  "That doesn't prove anything.",
];
const cues = Array.from({ length: MINUTES * 15 }, (_, i) => ({
  text: lines[i % lines.length],
  start: 1 + i * 4,
  end: 3.5 + i * 4,
}));
const sup = await writePgs(root, 'subs.sup', cues, { width: 1920, height: 1080 });
const channel = (seed, filter) => `anoisesrc=d=${SECONDS}:c=pink:a=0.1:r=48000:s=${seed},${filter}`;
await ffmpeg([
  ...['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25:duration=${SECONDS}`],
  ...['-f', 'lavfi', '-i', channel(1, 'lowpass=f=4000')],
  ...['-f', 'lavfi', '-i', channel(2, 'lowpass=f=4000')],
  ...['-f', 'lavfi', '-i', `sine=f=220:d=${SECONDS}:r=48000`],
  ...['-f', 'lavfi', '-i', `sine=f=40:d=${SECONDS}:r=48000`],
  ...['-f', 'lavfi', '-i', channel(3, 'highpass=f=200')],
  ...['-f', 'lavfi', '-i', channel(4, 'highpass=f=200')],
  ...['-fix_sub_duration', '-i', sup],
  ...[
    '-filter_complex',
    '[1][2][3][4][5][6]join=inputs=6:channel_layout=5.1(side):map=0.0-FL|1.0-FR|2.0-FC|3.0-LFE|4.0-SL|5.0-SR[a]',
  ],
  ...['-map', '0:v', '-map', '[a]', '-map', '7', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50'],
  ...['-c:a', 'flac', '-c:s', 'copy', '-copyts', '-metadata:s:s:0', 'language=eng', join(uploads, 'film.mkv')],
]);

const timed = async (args) => {
  const t0 = performance.now();
  await run(tools.ffmpeg, args);
  return (performance.now() - t0) / 1000;
};
const film = join(uploads, 'film.mkv');
const decodeSeconds = await timed(['-hide_banner', '-nostdin', '-i', film, '-map', '0:a:0', '-f', 'null', '-']);
const measureSeconds = await timed(measureArgs(film, [{ index: 1, name: 'audio_und_0', channels: 6 }], DEFAULT_AUDIO));

const ctx = { signal: new AbortController().signal, progress: async () => undefined };
const audio = DEFAULT_AUDIO;
const ingest = async (name, options) => {
  const t0 = performance.now();
  const result = await transcode(
    {
      mediaId: name,
      familyId: 'f',
      source: { bucket: 'media', key: 'uploads/film.mkv' },
      output: { bucket: 'media', prefix: `out/${name}/` },
      renditions: ['240p'],
    },
    ctx,
    storage,
    { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS },
    { chunkSeconds: 0, ...options },
  );
  return { result, seconds: (performance.now() - t0) / 1000 };
};
const plain = await ingest('plain', { audio: { ...audio, loudness: null } });
const levelled = await ingest('levelled', { audio });
const t0 = performance.now();
const read = await subtitles(
  {
    mediaId: 'subs',
    familyId: 'f',
    source: { bucket: 'media', key: 'uploads/film.mkv' },
    output: { bucket: 'media', prefix: 'out/subs/' },
  },
  ctx,
  storage,
);
const ocrSeconds = (performance.now() - t0) / 1000;

const perMinute = (s) => (s / MINUTES).toFixed(2);
const track = levelled.result.audioTracks[0];
console.log(`\n${MINUTES} min of film, 5.1 FLAC + PGS (${cues.length} cues), 2 cores\n`);
console.log('| measured | seconds | per film minute |');
console.log('| --- | ---: | ---: |');
console.log(`| decoding the 5.1 track alone | ${decodeSeconds.toFixed(1)} | ${perMinute(decodeSeconds)} |`);
console.log(
  `| the loudness pass (decode, downmix, 2x ebur128) | ${measureSeconds.toFixed(1)} | ${perMinute(measureSeconds)} |`,
);
console.log(`| transcode, AUDIO_LOUDNESS off | ${plain.seconds.toFixed(1)} | ${perMinute(plain.seconds)} |`);
console.log(`| transcode, AUDIO_LOUDNESS -18 | ${levelled.seconds.toFixed(1)} | ${perMinute(levelled.seconds)} |`);
console.log(`| OCR of the PGS track | ${ocrSeconds.toFixed(1)} | ${perMinute(ocrSeconds)} |`);
console.log(
  `\nsource ${JSON.stringify(track?.loudness)}; stereo before ${JSON.stringify(track?.levelling?.before)}; gain ${track?.levelling?.gainDb} dB, limited ${track?.levelling?.limited}; ratio levelled/plain ${(levelled.seconds / plain.seconds).toFixed(3)}, loudness pass/decode ${(measureSeconds / decodeSeconds).toFixed(2)}`,
);
console.log(`OCR: ${read.tracks[0]?.cueCount} cues read of ${cues.length}, skipped ${JSON.stringify(read.skipped)}`);
