import { open, readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { FFMPEG_PRELUDE, inputArgs, probe, run, tools, vttTime } from '@nself-tv/media-tools';
import type { JobContext, JobResult, Payload } from '@nself-tv/queues';
import { keyUnder, type MediaStorage, StorageError, withLocalFile, withTempDir } from '@nself-tv/storage';
import { cuesVtt } from './cues.js';
import { parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
import { hlsLanguage, tesseractLanguage } from './languages.js';
import { type MediaEntry, oneDefault, subtitlePlaylist, trackName, uniqueNames, withSubtitles } from './master.js';
import { installedOcrLanguages, OCR_CODECS, OcrError, ocrTrack } from './ocr.js';
import { DEFAULT_SUBTITLE_CHARSET, MAX_SIDECAR_BYTES, readSidecar, type SidecarSkipCode, srtCues } from './sidecar.js';

const TEXT_CODECS = new Set(['subrip', 'srt', 'ass', 'ssa', 'webvtt', 'mov_text', 'text']);

/** Why a subtitle stream is not in the output: a stable code and a sentence. */
export type SkipCode =
  | 'OCR_OFF'
  | 'OCR_NOT_INSTALLED'
  | 'OCR_NO_LANGUAGE'
  | 'OCR_EMPTY'
  | 'UNSUPPORTED_CODEC'
  | OcrError['code']
  | SidecarSkipCode;

/** What to do with a subtitle stream of `codec`: converted as text, read by OCR, or skipped. */
export function classifySubtitle(
  codec: string,
): { convert: 'text' | 'ocr' } | { convert: false; code: SkipCode; reason: string } {
  if (TEXT_CODECS.has(codec)) return { convert: 'text' };
  if (OCR_CODECS.has(codec)) return { convert: 'ocr' };
  return { convert: false, code: 'UNSUPPORTED_CODEC', reason: `unsupported subtitle codec ${codec}` };
}

/** Settings of the subtitle stage. */
export interface SubtitleOptions {
  /** Read PGS, VobSub and DVB tracks by OCR (`SUBTITLE_OCR`). @default true */
  ocr?: boolean;
  /** The charset of a sidecar that is neither UTF-8 nor detected (`SUBTITLE_CHARSET`). @default 'windows-1252' */
  charset?: string;
}

const names = new Intl.DisplayNames(['en'], { type: 'language' });
/** A label for a track: its title, else the language's English name, else the code. */
export function subtitleLabel(language: string, title: string | undefined): string {
  if (title) return title;
  try {
    return names.of(language) ?? language;
  } catch {
    return language;
  }
}

const safeLang = (lang: string | undefined) =>
  lang && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(lang) ? lang : 'und';

/** Where a track's VTT sits on the programme's timeline: embedded cues keep source times, sidecars start at 0. */
interface Written {
  track: JobResult<'video:subtitle'>['tracks'][number];
  /** The local VTT time of the video's first frame. */
  localStart: number;
  file: string;
}

/**
 * The `video:subtitle` processor: every text stream and sidecar to WebVTT;
 * bitmap streams listed as skipped. With `masterPlaylist`, each track also
 * gets a WebVTT media playlist and the master is rewritten to list them.
 */
export async function subtitles(
  payload: Payload<'video:subtitle'>,
  job: Pick<JobContext, 'progress' | 'signal'>,
  storage: MediaStorage,
  options: SubtitleOptions = {},
): Promise<JobResult<'video:subtitle'>> {
  return withLocalFile(storage, payload.source, async (input) => {
    const info = await probe(input, job.signal);
    const skipped: JobResult<'video:subtitle'>['skipped'] = [];
    const total = info.subtitles.length + (payload.sidecars?.length ?? 0);
    const videoStart = info.video?.startSeconds ?? 0;
    let done = 0;

    const written = await withTempDir('subtitles', async (dir) => {
      const out: Written[] = [];
      // An embedded text track: ffmpeg reads it (SubRip, ASS, mov_text, WebVTT in a container) and
      // writes SubRip, and the cues are written here like every other track's, escaped and bounded.
      const convert = async (args: string[], name: string) => {
        const srt = join(dir, `${name}.srt`);
        await run(tools.ffmpeg, [...FFMPEG_PRELUDE, ...args, '-c:s', 'srt', '-f', 'srt', srt], {
          signal: job.signal,
        });
        const cues = srtCues(await readHead(srt, MAX_SIDECAR_BYTES));
        const file = join(dir, name);
        await writeFile(file, cuesVtt(cues));
        done += 1;
        await job.progress((done / Math.max(1, total)) * 90);
        return { key: keyUnder(payload.output.prefix, name), cueCount: cues.length, file };
      };
      let ocrLanguages: Promise<Set<string> | undefined> | undefined;
      for (const stream of info.subtitles) {
        const verdict = classifySubtitle(stream.codec);
        const skip = (code: SkipCode, reason: string) =>
          skipped.push({ streamIndex: stream.index, codec: stream.codec, code, reason });
        if (!verdict.convert) {
          skip(verdict.code, verdict.reason);
          continue;
        }
        const language = safeLang(stream.language);
        const track = {
          language,
          label: subtitleLabel(language, stream.title),
          origin: 'embedded' as const,
          streamIndex: stream.index,
          default: stream.default,
          forced: stream.forced,
        };
        const name = `sub_${language}_${stream.index}.vtt`;
        if (verdict.convert === 'ocr') {
          if (options.ocr === false) {
            skip('OCR_OFF', 'picture subtitles are read by OCR, and SUBTITLE_OCR is off');
            continue;
          }
          ocrLanguages ??= installedOcrLanguages(job.signal);
          const installed = await ocrLanguages;
          const ocrLanguage = tesseractLanguage(stream.language);
          if (!installed) {
            skip('OCR_NOT_INSTALLED', 'picture subtitles are read by OCR, and tesseract is not installed');
            continue;
          }
          if (!ocrLanguage || !installed.has(ocrLanguage)) {
            skip(
              'OCR_NO_LANGUAGE',
              ocrLanguage
                ? `no OCR data for ${ocrLanguage} (install tesseract-ocr-${ocrLanguage.replace('_', '-')})`
                : 'the track names no language to read it in',
            );
            continue;
          }
          const read = await withTempDir('ocr', async (work) => {
            try {
              return await ocrTrack(input, stream.index, stream.codec, ocrLanguage, work, job.signal);
            } catch (error) {
              if (error instanceof OcrError) return error;
              throw error;
            }
          });
          if (read instanceof OcrError) {
            skip(read.code, read.message);
            continue;
          }
          // A menu entry that never shows a word is worse than none.
          if (read.length === 0) {
            skip('OCR_EMPTY', 'no picture of the track held text');
            continue;
          }
          const file = join(dir, name);
          await writeFile(file, cuesVtt(read));
          done += 1;
          await job.progress((done / Math.max(1, total)) * 90);
          out.push({
            file,
            localStart: videoStart,
            track: { ...track, key: keyUnder(payload.output.prefix, name), cueCount: read.length, ocrLanguage },
          });
          continue;
        }
        // -copyts: cue times as authored, on the source's own timeline.
        const { file, ...converted } = await convert(
          ['-copyts', ...inputArgs(input), '-map', `0:${stream.index}`],
          name,
        );
        out.push({ file, localStart: videoStart, track: { ...converted, ...track } });
      }
      for (const [i, sidecar] of (payload.sidecars ?? []).entries()) {
        const location = { bucket: sidecar.bucket, key: sidecar.key };
        const skipSidecar = (code: SidecarSkipCode, reason: string, format?: string) =>
          skipped.push({ sidecarKey: sidecar.key, codec: format ?? 'unknown', code, reason });
        done += 1;
        const bytes = await boundedRead(storage, location).catch((error: unknown) => {
          // The store refusing this one file (a link out of its bucket, a bad key) is that file's
          // fault, the same on every attempt; an outage is retried with the whole stage.
          if (error instanceof StorageError && error.code !== 'STORE_UNAVAILABLE') {
            return { code: 'SIDECAR_REFUSED' as const, reason: error.message };
          }
          throw error;
        });
        if ('code' in bytes) {
          skipSidecar(bytes.code, bytes.reason);
          continue;
        }
        const read = readSidecar(bytes, {
          fallbackCharset: options.charset ?? DEFAULT_SUBTITLE_CHARSET,
          fps: info.video?.fps,
          charset: sidecar.charset,
        });
        await job.progress((done / Math.max(1, total)) * 90);
        if ('code' in read) {
          skipSidecar(read.code, read.reason, read.format);
          continue;
        }
        const language = safeLang(sidecar.language);
        const name = `sub_${language}_sidecar${i}.vtt`;
        const file = join(dir, name);
        await writeFile(file, cuesVtt(read.cues));
        out.push({
          file,
          localStart: 0,
          track: {
            key: keyUnder(payload.output.prefix, name),
            cueCount: read.cues.length,
            language,
            label: subtitleLabel(language, sidecar.label),
            origin: 'sidecar',
            forced: sidecar.forced ?? false,
            ...(sidecar.hearingImpaired ? { hearingImpaired: true } : {}),
            format: read.format,
            charset: read.charset,
          },
        });
      }
      const master = payload.masterPlaylist
        ? await hlsContext(storage, payload.masterPlaylist, payload.output.bucket, job.signal)
        : undefined;
      for (const w of out) {
        if (master) await stampTimestampMap(w.file, master.firstPts, w.localStart);
        await storage.putFile({ bucket: payload.output.bucket, key: w.track.key }, w.file);
      }
      if (master) await listInMaster(storage, payload, master, out, info.durationSeconds);
      return out;
    });
    await job.progress(100);
    return { tracks: written.map((w) => w.track), skipped };
  });
}

/** The first `max` bytes of a local file as text: what a track holds past that is not read. */
async function readHead(file: string, max: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(max, (await handle.stat()).size));
    await handle.read(buffer, 0, buffer.length, 0);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** A sidecar's bytes, or why there are none: missing, or larger than any subtitle file. */
async function boundedRead(
  storage: MediaStorage,
  location: { bucket: string; key: string },
): Promise<Buffer | { code: SidecarSkipCode; reason: string }> {
  const size = await storage.stat(location);
  if (!size) return { code: 'SIDECAR_MISSING', reason: 'the sidecar file is not in the store' };
  if (size.bytes > MAX_SIDECAR_BYTES) {
    return { code: 'SIDECAR_TOO_LARGE', reason: `${size.bytes} bytes, more than ${MAX_SIDECAR_BYTES}` };
  }
  return storage.read(location);
}

/** The master's text and where its first video segment's timeline starts (90 kHz MPEG-TS ticks). */
interface HlsContext {
  location: { bucket: string; key: string };
  text: string;
  firstPts: number;
}

async function hlsContext(
  storage: MediaStorage,
  location: { bucket: string; key: string },
  outputBucket: string,
  signal: AbortSignal,
): Promise<HlsContext | undefined> {
  // The master must be in the bucket the tracks go to: its entries are relative URIs.
  if (location.bucket !== outputBucket) return undefined;
  const text = (await storage.read(location)).toString('utf8');
  const variant = parseMasterPlaylist(text)[0];
  if (!variant) return undefined;
  const variantKey = posix.join(posix.dirname(location.key), variant.uri);
  const media = parseMediaPlaylist((await storage.read({ bucket: location.bucket, key: variantKey })).toString('utf8'));
  const segment = media.segments[0];
  if (!segment) return undefined;
  const segmentKey = posix.join(posix.dirname(variantKey), segment.uri);
  const out = await withLocalFile(storage, { bucket: location.bucket, key: segmentKey }, (segmentPath) =>
    run(
      tools.ffprobe,
      [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=start_time',
        '-of',
        'csv=p=0',
        ...inputArgs(segmentPath),
      ],
      { signal },
    ),
  );
  // Players map cues onto the video's clock: the first video frame's PTS. ffprobe ends its
  // output with a newline, and an empty line is not a time (Number('') would be 0).
  const start = firstTime(out);
  if (start === undefined) return undefined;
  return { location, text, firstPts: Math.round(start * 90_000) };
}

/** The first number of ffprobe's csv lines, skipping blank lines and `N/A`. */
export function firstTime(csv: string): number | undefined {
  const times = csv
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'N/A')
    .map(Number)
    .filter(Number.isFinite);
  return times.length ? Math.min(...times) : undefined;
}

/**
 * Adds `X-TIMESTAMP-MAP` to a VTT so HLS players place its cues on the video
 * segments' timeline (the segments start at an MPEG-TS offset, not at 0).
 * Other WebVTT readers ignore the header line.
 */
async function stampTimestampMap(file: string, firstPts: number, localStart: number) {
  const text = await readFile(file, 'utf8');
  const header = `X-TIMESTAMP-MAP=MPEGTS:${firstPts},LOCAL:${vttTime(localStart)}`;
  await writeFile(file, text.replace(/^(\uFEFF?WEBVTT[^\n]*)\n/, `$1\n${header}\n`));
}

/** Writes a media playlist per track, then the master with them as its subtitles group, atomically. */
async function listInMaster(
  storage: MediaStorage,
  payload: Payload<'video:subtitle'>,
  master: HlsContext,
  written: Written[],
  durationSeconds: number,
) {
  const masterDir = posix.dirname(master.location.key);
  const entries: MediaEntry[] = [];
  for (const [i, w] of written.entries()) {
    const playlistKey = w.track.key.replace(/\.vtt$/, '.m3u8');
    const uri = posix.relative(masterDir === '.' ? '' : masterDir, playlistKey);
    // A track outside the master's folder cannot be named by a relative URI; it stays out of the master.
    if (uri.startsWith('..')) continue;
    await storage.write(
      { bucket: payload.output.bucket, key: playlistKey },
      subtitlePlaylist(posix.basename(w.track.key), durationSeconds),
    );
    w.track.playlistKey = playlistKey;
    const language = hlsLanguage(w.track.language);
    entries.push({
      uri,
      language,
      name: trackName(w.track.label, language, `Subtitles ${i + 1}`),
      default: w.track.default ?? false,
      forced: w.track.forced ?? false,
      hearingImpaired: w.track.hearingImpaired ?? false,
    });
  }
  // At most one default; none unless the source flagged one (a default subtitle shows unasked).
  const defaults = entries.filter((e) => e.default).length;
  const named = uniqueNames(defaults > 1 ? oneDefault(entries) : entries);
  await storage.write(master.location, withSubtitles(master.text, named));
}
