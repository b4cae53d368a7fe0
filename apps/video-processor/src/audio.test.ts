import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, runLog, tools } from '@nself-tv/media-tools';
import { createFileStorage } from '@nself-tv/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { type AudioSettings, DEFAULT_AUDIO, retryUnderCeiling } from './audio.js';
import { transcode } from './transcode.js';
import { transcodePart } from './transcode-plan.js';

// Every stereo rendition at one loudness without pumping, a surround track kept beside its
// stereo downmix, and a downmix that keeps the centre's dialogue: measured on what was stored.

const root = await mkdtemp(join(tmpdir(), 'vp-audio-'));
const storage = createFileStorage({ root });
const media = join(root, 'media');
await mkdir(join(media, 'up'), { recursive: true });
afterAll(() => rm(root, { recursive: true, force: true }));

const ff = (...args: string[]) => run(tools.ffmpeg, ['-hide_banner', '-v', 'error', '-y', ...args]);
const ctx = { signal: new AbortController().signal, progress: async () => undefined };
const SECONDS = 24;
const video = ['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25:duration=${SECONDS}`];

async function ingest(name: string, file: string, audio: Partial<AudioSettings> = {}) {
  const result = await transcode(
    {
      mediaId: name,
      familyId: 'f',
      source: { bucket: 'media', key: `up/${file}` },
      output: { bucket: 'media', prefix: `hls/${name}/` },
      renditions: ['240p'],
    },
    ctx,
    storage,
    { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS },
    { chunkSeconds: 0, audio: { ...DEFAULT_AUDIO, ...audio } },
  );
  return { result, dir: join(media, 'hls', name) };
}

/** ffmpeg's log of reading `playlist` (as a player does) through `filters`. */
async function readLog(playlist: string, filters: string) {
  const args = ['-hide_banner', '-nostdin', '-i', playlist, '-af', filters, '-f', 'null', '-'];
  const log = await runLog(tools.ffmpeg, args, { maxChars: 1_000_000, keep: 'tail' });
  return log;
}

/** ebur128 of a stored rendition, with this test's own reading of its summary. */
async function measured(playlist: string) {
  const log = await readLog(playlist, 'ebur128=peak=true:framelog=verbose');
  const summary = log.slice(log.lastIndexOf('Summary:'));
  const value = (re: RegExp) => Number(re.exec(summary)?.[1]);
  return { integrated: value(/I:\s+(-?[\d.]+) LUFS/), truePeak: value(/Peak:\s+(-?[\d.]+) dBFS/) };
}

/** RMS level (dB) of a rendition's first channel through `filters`. */
async function rms(playlist: string, filters: string) {
  const log = await readLog(playlist, `${filters},astats=measure_perchannel=RMS_level:measure_overall=none`);
  return Number(/RMS level dB: (-?[\d.]+)/.exec(log)?.[1]);
}

describe('loudness: every stereo rendition at the target', () => {
  it('brings a quiet film with loud peaks and a loud one to -18 LUFS, true peak under -1 dBTP', async () => {
    // Quiet: soft pink noise (a room, voices) at about -29 LUFS with a sharp click every 0.75 s near
    // full scale (gunshots), so the gain it needs would put its peaks far over the ceiling. Loud: a
    // dense, compressed mix near full scale.
    const clicks = "aevalsrc='if(lt(mod(n\\,36000)\\,40)\\,0.8*sin(n/3)\\,0)'";
    await ff(
      ...video,
      ...['-f', 'lavfi', '-i', `anoisesrc=d=${SECONDS}:c=pink:a=0.2:r=48000:s=1`],
      ...['-f', 'lavfi', '-i', `${clicks}:d=${SECONDS}:s=48000`],
      ...['-filter_complex', '[1][2]amix=inputs=2:normalize=0,aformat=channel_layouts=stereo[q]'],
      ...['-map', '0:v', '-map', '[q]', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-b:a', '192k'],
      join(media, 'up', 'quiet.mp4'),
    );
    await ff(
      ...video,
      ...[
        '-f',
        'lavfi',
        '-i',
        `anoisesrc=d=${SECONDS}:c=white:a=0.5:r=48000,lowpass=f=3000,acompressor=threshold=0.1:ratio=8:makeup=6,aformat=channel_layouts=stereo`,
      ],
      ...['-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-b:a', '192k'],
      join(media, 'up', 'loud.mp4'),
    );
    for (const name of ['quiet', 'loud']) {
      const { result, dir } = await ingest(name, `${name}.mp4`);
      const track = result.audioTracks[0];
      const out = await measured(join(dir, 'audio_und_0', 'index.m3u8'));
      expect(Math.abs(out.integrated - -18), `${name}: ${out.integrated} LUFS`).toBeLessThanOrEqual(1);
      expect(out.truePeak, `${name}: ${out.truePeak} dBTP`).toBeLessThan(-1);
      expect(track?.copied).toBe(false);
      expect(track?.copyRefusal).toMatch(/AUDIO_LOUDNESS/);
      expect(track?.levelling).toMatchObject({ targetLufs: -18, truePeakCeiling: -1 });
      expect(track?.loudness?.integrated).toBeCloseTo(track?.levelling?.before.integrated ?? 0, 0);
      if (name === 'quiet') {
        expect(track?.levelling?.gainDb).toBeGreaterThan(10);
        expect(track?.levelling?.limited).toBe(true);
      } else {
        expect(track?.levelling?.gainDb).toBeLessThan(-3);
        expect(track?.levelling?.limited).toBe(false);
      }
    }
  });

  it('AUDIO_LOUDNESS off leaves the level as it came, and AAC-LC is copied again', async () => {
    const { result } = await ingest('loud-off', 'loud.mp4', { loudness: null });
    expect(result.audioTracks[0]).toMatchObject({ copied: true, copyRefusal: null, levelling: null });
    expect(result.audioTracks[0]?.loudness?.integrated).toBeGreaterThan(-12);
  });
});

describe('surround: a 5.1 track keeps its channels beside the stereo', () => {
  // Dialogue only in the centre (a 1 kHz voice stand-in), effects as loud in each of the other four
  // (noise under 250 Hz), an LFE rumble: the downmix must keep the centre well over the effects.
  const effects = (seed: number) =>
    `anoisesrc=d=${SECONDS}:c=white:a=0.5:r=48000:s=${seed},lowpass=f=250,lowpass=f=250,lowpass=f=250,volume=4`;
  const surround = async (file: string, codec: string[]) => {
    const inputs = [
      ...['-f', 'lavfi', '-i', `${effects(11)}`],
      ...['-f', 'lavfi', '-i', `${effects(12)}`],
      ...['-f', 'lavfi', '-i', `sine=f=1000:d=${SECONDS}:r=48000,volume=1.13`],
      ...['-f', 'lavfi', '-i', `sine=f=40:d=${SECONDS}:r=48000,volume=0.5`],
      ...['-f', 'lavfi', '-i', `${effects(13)}`],
      ...['-f', 'lavfi', '-i', `${effects(14)}`],
    ];
    await ff(
      ...video,
      ...inputs,
      ...[
        '-filter_complex',
        '[1][2][3][4][5][6]join=inputs=6:channel_layout=5.1(side):map=0.0-FL|1.0-FR|2.0-FC|3.0-LFE|4.0-SL|5.0-SR[a]',
      ],
      ...['-map', '0:v', '-map', '[a]', '-c:v', 'libx264', '-preset', 'ultrafast', ...codec],
      join(media, 'up', file),
    );
  };

  it('lists a stereo AAC and a 5.1 AC-3 rendition in two groups, every rung once with each', async () => {
    // The source's surround is FLAC (as in many rips): encoded to AC-3, not copied.
    await surround('film51.mkv', ['-c:a', 'flac']);
    const { result, dir } = await ingest('film51', 'film51.mkv');
    const master = await readFile(join(dir, 'master.m3u8'), 'utf8');
    expect(master).toMatch(
      /TYPE=AUDIO,GROUP-ID="audio",NAME="Audio 1",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_und_0\/index.m3u8"/,
    );
    expect(master).toMatch(
      /TYPE=AUDIO,GROUP-ID="audio-mc",NAME="Audio 1",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="6",URI="audio_und_0_mc\/index.m3u8"/,
    );
    const variants = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
    expect(variants).toHaveLength(2);
    // The stereo variant first: a player that takes the first it can play gets stereo AAC.
    expect(variants[0]).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2".*AUDIO="audio"/);
    expect(variants[1]).toMatch(/CODECS="avc1\.[0-9a-f]{6},ac-3".*AUDIO="audio-mc"/);
    expect(result.audioTracks[0]).toMatchObject({
      sourceChannels: 6,
      downmix: 'dialogue',
      surround: { codec: 'ac-3', channels: 6, copied: false, playlistKey: 'hls/film51/audio_und_0_mc/index.m3u8' },
    });
    const probe = await run(tools.ffprobe, [
      ...['-v', 'error', '-show_entries', 'stream=codec_name,channels', '-of', 'csv=p=0'],
      join(dir, 'audio_und_0_mc', 'index.m3u8'),
    ]);
    expect(probe.trim().split('\n')[0]).toBe('ac3,6');
    // Dialogue over effects (dB) in the source's own channels, and in each stereo downmix.
    const voice = 'highpass=f=600,highpass=f=600,highpass=f=600';
    const rumble = 'lowpass=f=400,lowpass=f=400,lowpass=f=400';
    const share = async (file: string, pick = '') =>
      (await rms(file, `${pick}${voice}`)) - (await rms(file, `${pick}${rumble}`));
    const source = join(media, 'up', 'film51.mkv');
    const inSource = (await rms(source, `pan=mono|c0=FC,${voice}`)) - (await rms(source, `pan=mono|c0=FL,${rumble}`));
    const dialogue = await share(join(dir, 'audio_und_0', 'index.m3u8'));
    // The centre at full level and every other channel under it: the words stand out more than in
    // any one channel of the source (by 1.25 dB, on paper).
    expect(dialogue - inSource).toBeGreaterThan(0.5);
    // ITU-R BS.775 (swresample's): the centre 3 dB under the fronts, so the words sink (-4.8 dB).
    const itu = await ingest('film51-itu', 'film51.mkv', { downmix: 'itu', surround: null });
    const ituShare = await share(join(itu.dir, 'audio_und_0', 'index.m3u8'));
    expect(ituShare - inSource).toBeLessThan(-3);
    // AUDIO_SURROUND off: stereo only, one group.
    expect(itu.result.audioTracks[0]).toMatchObject({ downmix: 'itu', surround: null });
    expect(await readFile(join(itu.dir, 'master.m3u8'), 'utf8')).not.toMatch(/audio-mc|ac-3/);
  });

  it('copies a source AC-3 5.1 as the surround rendition, and E-AC-3 when asked for it', async () => {
    await surround('film51-ac3.mkv', ['-c:a', 'ac3', '-b:a', '448k']);
    const copied = await ingest('film51-ac3', 'film51-ac3.mkv');
    expect(copied.result.audioTracks[0]?.surround).toMatchObject({ codec: 'ac-3', channels: 6, copied: true });
    const eac3 = await ingest('film51-eac3', 'film51.mkv', { surround: 'eac3' });
    expect(eac3.result.audioTracks[0]?.surround).toMatchObject({ codec: 'ec-3', channels: 6, copied: false });
    expect(await readFile(join(eac3.dir, 'master.m3u8'), 'utf8')).toMatch(/CODECS="avc1\.[0-9a-f]{6},ec-3"/);
  });
});

describe('an audio part queued before levelling', () => {
  it('still parses, and is encoded as it was then: level kept, ITU downmix, no surround', () => {
    const part = transcodePart.parse({
      kind: 'audio',
      source: { bucket: 'media', key: 'up/film.mkv' },
      output: { bucket: 'media', prefix: 'hls/film/' },
      tracks: [{ index: 1, name: 'audio_en_0', copy: false }],
    });
    expect(part).toMatchObject({
      tracks: [{ index: 1, name: 'audio_en_0', channels: 2 }],
      settings: { loudness: null, downmix: 'itu', surround: null },
    });
  });
});

describe('the stored rendition over the ceiling', () => {
  it('is encoded again with the limiter aiming lower by the overshoot and a margin; one under is left', () => {
    const level = { gainDb: 8.8, limited: true };
    const over = { integrated: -18.7, range: 3, truePeak: -0.9 };
    // 0.5 dB of headroom before, 0.1 dB over -1, 0.2 dB margin.
    expect(retryUnderCeiling(level, over, DEFAULT_AUDIO)).toEqual({ gainDb: 8.8, limited: true, headroomDb: 0.8 });
    // Still over after that: the gain comes down by what is left over, the limiter as it was.
    expect(retryUnderCeiling({ ...level, headroomDb: 0.8 }, { ...over, truePeak: -0.95 }, DEFAULT_AUDIO, 1)).toEqual({
      gainDb: 8.55,
      limited: true,
      headroomDb: 0.8,
    });
    // A rendition that was not limited, but whose encoder crossed the ceiling, gets the limiter.
    expect(retryUnderCeiling({ gainDb: 2, limited: false }, over, DEFAULT_AUDIO)?.limited).toBe(true);
    expect(retryUnderCeiling(level, { ...over, truePeak: -1.2 }, DEFAULT_AUDIO)).toBeUndefined();
    expect(retryUnderCeiling(level, { ...over, truePeak: Number.NEGATIVE_INFINITY }, DEFAULT_AUDIO)).toBeUndefined();
  });
});
