import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureTools, DEFAULT_MAX_VIDEO_PIXELS, run, tools } from '@nself-tv/media-tools';
import { type FixtureCue, writePgs } from '@nself-tv/sample-media';
import { createFileStorage } from '@nself-tv/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { cueText, MAX_CUE_CHARS } from './cues.js';
import { tesseractLanguage } from './languages.js';
import { installedOcrLanguages } from './ocr.js';
import { subtitles } from './subtitles.js';
import { transcode } from './transcode.js';

// Disc subtitles are pictures: a Blu-ray PGS track, a DVD VobSub track and a DVB track, each made
// from text (drawn with a real font and outline), come out as WebVTT that says what the pictures
// said, when they said it, where on the screen.

const root = await mkdtemp(join(tmpdir(), 'vp-ocr-'));
const storage = createFileStorage({ root });
const up = join(root, 'media', 'up');
await mkdir(up, { recursive: true });
afterAll(() => rm(root, { recursive: true, force: true }));
const ff = (...args: string[]) => run(tools.ffmpeg, ['-hide_banner', '-v', 'error', '-y', ...args]);
const ctx = { signal: new AbortController().signal, progress: async () => undefined };

const ENGLISH: FixtureCue[] = [
  { text: 'Where were you last night?', start: 1.0, end: 3.2 },
  { text: 'I told you, I was at the station\nuntil half past eleven.', start: 3.6, end: 6.84 },
  { text: 'Nobody saw you there, Tom.', start: 7.2, end: 9.0 },
  { text: '[DISTANT SIRENS]', start: 9.5, end: 11.0, top: true },
  { text: 'Then ask Mr. Hughes & his wife.', start: 11.4, end: 14.12 },
  { text: 'They left at ten. I checked.', start: 14.6, end: 16.6 },
  { text: "So what? That doesn't prove\nanything, does it?", start: 17.0, end: 20.04 },
  { text: 'It proves you lied to me.', start: 20.5, end: 22.5 },
];
const FRENCH: FixtureCue[] = [
  { text: 'Où étiez-vous hier soir ?', start: 1.0, end: 3.2 },
  { text: "Je vous l'ai dit, j'étais à la gare\njusqu'à onze heures et demie.", start: 3.6, end: 6.84 },
  { text: 'Personne ne vous y a vu.', start: 7.2, end: 9.0 },
  { text: '[SIRÈNES AU LOIN]', start: 9.5, end: 11.0, top: true },
  { text: 'Demandez donc à M. Dupré.', start: 11.4, end: 14.12 },
  { text: 'Ils sont partis à dix heures.', start: 14.6, end: 16.6 },
  { text: 'Et alors ? Ça ne prouve rien,\nvous le savez bien.', start: 17.0, end: 20.04 },
  { text: 'Ça prouve que vous avez menti.', start: 20.5, end: 22.5 },
];

/** Edit distance (characters), for the share of the text read right. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] as number;
}

/** The cues of a WebVTT file: times, settings and text (markup unescaped). */
function parseVtt(text: string) {
  return text
    .split(/\n\n+/)
    .map((b) => b.trim())
    .filter((b) => b.includes('-->'))
    .map((b) => {
      const [timing = '', ...lines] = b.split('\n');
      const [from = '', rest = ''] = timing.split(' --> ');
      const [to = '', ...settings] = rest.split(' ');
      const seconds = (t: string) => t.split(':').reduce((acc, v) => acc * 60 + Number(v), 0);
      const body = lines.join('\n').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      return { start: seconds(from), end: seconds(to), settings: settings.join(' '), text: body };
    });
}

async function videoStart(file: string) {
  const out = await run(tools.ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=start_time',
    '-of',
    'csv=p=0',
    file,
  ]);
  return Number(out.trim().split('\n')[0]);
}

/** A film of `seconds` at 25 fps with the subtitle track of `sup`, encoded by ffmpeg as `codec`. */
async function film(name: string, sup: string, codec: string[], language: string, extra: string[] = []) {
  const file = join(up, name);
  await ff(
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=24'],
    ...['-fix_sub_duration', '-i', sup],
    ...['-map', '0', '-map', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', ...codec],
    ...['-copyts', '-metadata:s:s:0', `language=${language}`, ...extra, file],
  );
  return file;
}

async function read(name: string, options: { ocr?: boolean; master?: string } = {}) {
  return subtitles(
    {
      mediaId: name,
      familyId: 'f',
      source: { bucket: 'media', key: `up/${name}` },
      // Beside the film's HLS when listed in its master (a track outside the master's folder is not).
      output: {
        bucket: 'media',
        prefix: options.master ? options.master.replace(/master\.m3u8$/, '') : `subs/${name}/`,
      },
      ...(options.master ? { masterPlaylist: { bucket: 'media', key: options.master } } : {}),
    },
    ctx,
    storage,
    options.ocr === undefined ? {} : { ocr: options.ocr },
  );
}

/** Checks a track read by OCR against the cues it was made from. */
async function expectCues(key: string, cues: readonly FixtureCue[], start: number) {
  const read = parseVtt(await readFile(join(root, 'media', key), 'utf8'));
  expect(
    read.map((c) => c.text.split('\n').length),
    JSON.stringify(read),
  ).toEqual(cues.map((c) => c.text.split('\n').length));
  const original = cues.map((c) => c.text).join('\n');
  const got = read.map((c) => c.text).join('\n');
  const accuracy = 1 - distance(original, got) / original.length;
  expect(accuracy, `${accuracy}: ${got}`).toBeGreaterThanOrEqual(0.98);
  const frame = 1 / 25;
  for (const [i, cue] of cues.entries()) {
    const r = read[i] as (typeof read)[number];
    expect(Math.abs(r.start - start - cue.start), `cue ${i} start`).toBeLessThanOrEqual(frame);
    expect(Math.abs(r.end - start - cue.end), `cue ${i} end`).toBeLessThanOrEqual(frame);
    expect(r.settings, `cue ${i} placement`).toBe(cue.top ? 'line:0' : '');
  }
  return accuracy;
}

describe('picture subtitles read by OCR', () => {
  it('a Blu-ray PGS track (1080p, white), forced: WebVTT with its text, times and placement, FORCED in the master', async () => {
    const sup = await writePgs(up, 'en.sup', ENGLISH, { width: 1920, height: 1080 });
    const file = await film('bluray.mkv', sup, ['-c:s', 'copy'], 'eng', ['-disposition:s:0', 'forced']);
    // The master to list it in: the film's own transcode.
    await transcode(
      {
        mediaId: 'bluray',
        familyId: 'f',
        source: { bucket: 'media', key: 'up/bluray.mkv' },
        output: { bucket: 'media', prefix: 'hls/bluray/' },
        renditions: ['240p'],
      },
      ctx,
      storage,
      { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS },
      { chunkSeconds: 0 },
    );
    const result = await read('bluray.mkv', { master: 'hls/bluray/master.m3u8' });
    expect(result.skipped).toEqual([]);
    expect(result.tracks[0]).toMatchObject({
      language: 'eng',
      ocrLanguage: 'eng',
      forced: true,
      cueCount: ENGLISH.length,
    });
    await expectCues(result.tracks[0]?.key as string, ENGLISH, await videoStart(file));
    const master = await readFile(join(root, 'media', 'hls', 'bluray', 'master.m3u8'), 'utf8');
    expect(master, master).toMatch(/TYPE=SUBTITLES,.*LANGUAGE="en".*FORCED=YES/);
  });

  it('a DVD VobSub track (720x480, yellow, French) read with French data', async () => {
    const sup = await writePgs(up, 'fr.sup', FRENCH, { width: 720, height: 480 }, 'yellow');
    const file = await film('dvd.mkv', sup, ['-c:s', 'dvdsub'], 'fre');
    const result = await read('dvd.mkv');
    expect(result.tracks[0]).toMatchObject({ ocrLanguage: 'fra', cueCount: FRENCH.length });
    await expectCues(result.tracks[0]?.key as string, FRENCH, await videoStart(file));
  });

  it('a DVB track in MPEG-TS (720x576), on the transport stream timeline', async () => {
    const sup = await writePgs(up, 'dvb.sup', ENGLISH, { width: 720, height: 576 });
    const file = await film('dvb.ts', sup, ['-c:s', 'dvbsub'], 'eng');
    const result = await read('dvb.ts');
    expect(result.tracks[0]).toMatchObject({ ocrLanguage: 'eng', cueCount: ENGLISH.length });
    // The TS starts at 1.4 s: the cues are on the same clock as the video.
    const start = await videoStart(file);
    expect(start).toBeGreaterThan(1);
    await expectCues(result.tracks[0]?.key as string, ENGLISH, start);
  });

  it('a language without OCR data, and SUBTITLE_OCR off, are skipped with their code', async () => {
    const sup = await writePgs(up, 'ja.sup', ENGLISH.slice(0, 2), { width: 1920, height: 1080 });
    await film('japanese.mkv', sup, ['-c:s', 'copy'], 'jpn');
    expect((await read('japanese.mkv')).skipped).toEqual([
      expect.objectContaining({ code: 'OCR_NO_LANGUAGE', reason: expect.stringMatching(/tesseract-ocr-jpn/) }),
    ]);
    expect((await read('bluray.mkv', { ocr: false })).skipped).toEqual([
      expect.objectContaining({ code: 'OCR_OFF', codec: 'hdmv_pgs_subtitle' }),
    ]);
  });

  it('OCR text is text from a file: markup escaped, nothing that ends a cue, bounded', () => {
    expect(cueText('<script>alert(1)</script> & -->\n\n\nnext\u0000line\u001b[31m')).toBe(
      '&lt;script&gt;alert(1)&lt;/script&gt; &amp; -&gt;\nnext line [31m',
    );
    expect(cueText('x'.repeat(10_000)).length).toBe(MAX_CUE_CHARS);
    expect(tesseractLanguage('fre')).toBe('fra');
    expect(tesseractLanguage('en-GB')).toBe('eng');
    expect(tesseractLanguage('und')).toBeUndefined();
    expect(tesseractLanguage('../../etc')).toBeUndefined();
  });

  it('runs tesseract where TESSERACT_PATH says, and reads a missing one as no OCR, by its code', async () => {
    expect(await installedOcrLanguages()).toContain('eng');
    const saved = tools.tesseract;
    configureTools({ tesseract: join(tmpdir(), 'no-such-dir', 'tesseract') });
    try {
      expect(await installedOcrLanguages()).toBeUndefined();
    } finally {
      configureTools({ tesseract: saved });
    }
  });
});
