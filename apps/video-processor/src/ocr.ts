import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpegInput, inputArgs, run, tools } from '@nself-tv/media-tools';
import { z } from 'zod';
import { type Cue, cueText } from './cues.js';

/**
 * Picture subtitles (Blu-ray PGS, DVD VobSub, DVB) as WebVTT, read by OCR:
 * - ffprobe decodes the track's events: when each picture is shown and when it is cleared;
 * - ffmpeg draws each picture once on the track's own canvas (sub2video, repeats dropped by
 *   `mpdecimate`; the video is not decoded), as dark text on
 *   white (alpha multiplied in, then negated), twice the size on an SD canvas, and `bbox` says
 *   where on the screen it sits;
 * - tesseract reads the pictures in the track's language, one process for many (a list file,
 *   pages split by form feeds).
 * The cue times are the events' own; a picture in the top half of the screen gives a cue placed
 * at the top. OCR output is text from a file like any other: escaped, and bounded in size.
 */

/** The codecs read by OCR. */
export const OCR_CODECS = new Set(['hdmv_pgs_subtitle', 'dvd_subtitle', 'dvb_subtitle']);
/** Events of one track read at most (a film has one or two thousand). */
export const MAX_OCR_EVENTS = 20_000;
/** The largest subtitle canvas read (4K UHD Blu-ray's), pixels. */
const MAX_CANVAS_PIXELS = 3840 * 2160;

/** The languages tesseract has data for here; undefined when tesseract is not installed. */
export async function installedOcrLanguages(signal?: AbortSignal): Promise<Set<string> | undefined> {
  try {
    const out = await run(tools.tesseract, ['--list-langs'], { signal, timeoutMs: 10_000 });
    return new Set(
      out
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^[A-Za-z_]+$/.test(l)),
    );
  } catch (error) {
    if ((error as { code?: unknown }).code === 'TOOL_MISSING') return undefined;
    throw error;
  }
}

const events = z.object({
  streams: z.array(z.object({ width: z.number().optional(), height: z.number().optional() })).max(1),
  frames: z
    .array(
      z.object({
        media_type: z.string(),
        pts_time: z.string().optional(),
        end_display_time: z.number().optional(),
        num_rects: z.number().optional(),
      }),
    )
    .max(MAX_OCR_EVENTS * 2 + 16),
});

/** A coded failure of OCR: the track is skipped with it. */
export class OcrError extends Error {
  constructor(
    readonly code: 'OCR_TOO_MANY_EVENTS' | 'OCR_CANVAS_TOO_LARGE' | 'OCR_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'OcrError';
  }
}

/** A bbox log line: the picture's time and where its opaque part sits. */
const BBOX = /pts_time:(-?[\d.]+) x1:(\d+) x2:(\d+) y1:(\d+) y2:(\d+)/;

/**
 * Reads subtitle stream `index` (of `codec`) of `input` by OCR in `language` (tesseract's name), working in
 * `dir`. Resolves the cues in time order.
 */
export async function ocrTrack(
  input: string,
  index: number,
  codec: string,
  language: string,
  dir: string,
  signal: AbortSignal,
): Promise<Cue[]> {
  const probed = events.parse(
    JSON.parse(
      await run(
        tools.ffprobe,
        [
          ...['-v', 'error', '-select_streams', String(index), '-show_frames', '-show_streams'],
          ...['-show_entries', 'frame=media_type,pts_time,end_display_time,num_rects:stream=width,height'],
          ...['-of', 'json', ...inputArgs(input)],
        ],
        { signal },
      ),
    ),
  );
  const shown = probed.frames
    .filter((f) => f.media_type === 'subtitle' && f.pts_time !== undefined)
    .map((f) => ({ start: Number(f.pts_time), rects: f.num_rects ?? 0, endMs: f.end_display_time ?? 0 }))
    .filter((e) => Number.isFinite(e.start))
    .sort((a, b) => a.start - b.start);
  if (shown.length > MAX_OCR_EVENTS)
    throw new OcrError('OCR_TOO_MANY_EVENTS', `${shown.length} subtitle events, more than ${MAX_OCR_EVENTS}`);
  // A DVB track without a display definition is on the standard's 720x576 screen, as ffmpeg draws it.
  const sd = codec === 'dvb_subtitle' ? 576 : 0;
  const width = probed.streams[0]?.width || (sd ? 720 : 0);
  const height = probed.streams[0]?.height || sd;
  if (width * height > MAX_CANVAS_PIXELS)
    throw new OcrError('OCR_CANVAS_TOO_LARGE', `a ${width}x${height} subtitle canvas is larger than 3840x2160`);
  if (!shown.some((e) => e.rects > 0)) return [];

  // Small canvases (DVD, DVB) are drawn twice the size: tesseract reads letters 20 px high poorly.
  const scale = height > 0 && height < 720 ? ',scale=iw*2:ih*2:flags=bicubic' : '';
  const graph = `[0:${index}]mpdecimate=hi=64:lo=64:frac=0:max=0,premultiply=inplace=1,bbox=min_val=40,metadata=mode=select:key=lavfi.bbox.w,format=gray,negate${scale}[o]`;
  const boxes: { time: number; y1: number; y2: number }[] = [];
  // The canvas is the track's own screen (without it ffmpeg draws DVB on the video's size, scaled down).
  const canvas = width > 0 && height > 0 ? ['-canvas_size', `${width}x${height}`] : [];
  const args = ffmpegInput(input, ['-copyts', ...canvas]);
  args.push('-filter_complex', graph, '-map', '[o]', '-fps_mode', 'passthrough', '-frames:v', String(MAX_OCR_EVENTS));
  // Only the subtitle stream is decoded: the video's packets are read past, never decoded (mapping
  // them, even copied to nowhere, makes sub2video redraw the canvas at every one: 7x slower).
  args.push('-f', 'image2', join(dir, 'p_%05d.png'));
  await run(tools.ffmpeg, args, {
    signal,
    onStderrLine: (line) => {
      const m = BBOX.exec(line);
      if (m && boxes.length < MAX_OCR_EVENTS) boxes.push({ time: Number(m[1]), y1: Number(m[4]), y2: Number(m[5]) });
    },
  });
  const pictures = (await readdir(dir)).filter((n) => /^p_\d{5}\.png$/.test(n)).sort();
  const count = Math.min(pictures.length, boxes.length);
  if (count === 0) return [];
  const pages = await readPictures(
    pictures.slice(0, count).map((p) => join(dir, p)),
    language,
    dir,
    signal,
  );

  const cues: Cue[] = [];
  // Pictures and events are both in time order: one walk over the events, not a search per picture.
  let cursor = 0;
  for (let k = 0; k < count; k++) {
    const box = boxes[k] as (typeof boxes)[number];
    while (cursor < shown.length && (shown[cursor] as (typeof shown)[number]).start < box.time - 0.002) cursor++;
    // The event the picture belongs to: the one shown at its time (to a couple of milliseconds).
    let at = cursor;
    while (at < shown.length && (shown[at] as (typeof shown)[number]).rects === 0) at++;
    const found = shown[at];
    if (!found || Math.abs(found.start - box.time) >= 0.002) continue;
    const event = shown[at] as (typeof shown)[number];
    const next = shown[at + 1]?.start;
    // A VobSub event says how long it shows; PGS and DVB are cleared by the next event.
    const stated = event.endMs > 0 && event.endMs < 0xffffffff ? event.start + event.endMs / 1000 : undefined;
    const end = Math.min(stated ?? Number.POSITIVE_INFINITY, next ?? event.start + 10);
    const text = cueText(pages[k] ?? '');
    if (!text || !(end > event.start)) continue;
    // bbox measures before the scaling, on the canvas.
    const top = height > 0 && (box.y1 + box.y2) / 2 < height / 2;
    const last = cues[cues.length - 1];
    // A PGS palette update (a fade) repeats the picture: one cue.
    if (last && last.text === text && Math.abs(last.end - event.start) < 0.002) last.end = end;
    else cues.push({ start: event.start, end, text, top });
  }
  return cues;
}

/** Runs tesseract over `files`, two processes (the machines' cores) each over half; the text of each. */
async function readPictures(files: string[], language: string, dir: string, signal: AbortSignal): Promise<string[]> {
  const halves = files.length > 8 ? [files.slice(0, files.length >> 1), files.slice(files.length >> 1)] : [files];
  const read = await Promise.all(
    halves.map(async (part, h) => {
      const list = join(dir, `list${h}.txt`);
      await writeFile(list, `${part.join('\n')}\n`);
      // --psm 6: one block of text, which a subtitle is; pages are split by form feeds.
      const out = await run(tools.tesseract, [list, 'stdout', '-l', language, '--psm', '6'], { signal });
      const pages = out.split('\f');
      if (pages.length < part.length)
        throw new OcrError('OCR_FAILED', `tesseract read ${pages.length} of ${part.length} pictures`);
      return pages.slice(0, part.length);
    }),
  );
  return read.flat();
}
