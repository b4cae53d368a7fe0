import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inputArgs, keyUnder, probe, run, tools } from '@nself-tv/media-tools';
import type { JobContext, JobResult, Payload } from '@nself-tv/queues';
import { type MediaStorage, withTempDir } from '@nself-tv/storage';

const TEXT_CODECS = new Set(['subrip', 'srt', 'ass', 'ssa', 'webvtt', 'mov_text', 'text']);
const BITMAP_CODECS = new Set(['dvd_subtitle', 'hdmv_pgs_subtitle', 'dvb_subtitle', 'xsub']);

/** What to do with a subtitle stream of `codec`. */
export function classifySubtitle(codec: string): { convert: true } | { convert: false; reason: string } {
  if (TEXT_CODECS.has(codec)) return { convert: true };
  if (BITMAP_CODECS.has(codec)) return { convert: false, reason: 'bitmap subtitles cannot be converted to WebVTT' };
  return { convert: false, reason: `unsupported subtitle codec ${codec}` };
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

/** The `video:subtitle` processor: every text stream and sidecar to WebVTT; bitmap streams listed as skipped. */
export async function subtitles(
  payload: Payload<'video:subtitle'>,
  job: Pick<JobContext, 'progress' | 'signal'>,
  storage: MediaStorage,
): Promise<JobResult<'video:subtitle'>> {
  const input = await storage.localPath(payload.source);
  const info = await probe(input, job.signal);
  const tracks: JobResult<'video:subtitle'>['tracks'] = [];
  const skipped: JobResult<'video:subtitle'>['skipped'] = [];
  const total = info.subtitles.length + (payload.sidecars?.length ?? 0);
  let done = 0;

  await withTempDir('subtitles', async (dir) => {
    const convert = async (args: string[], name: string) => {
      const file = join(dir, name);
      await run(tools.ffmpeg, ['-hide_banner', '-nostdin', '-y', ...args, '-c:s', 'webvtt', '-f', 'webvtt', file], {
        signal: job.signal,
      });
      const cueCount = ((await readFile(file, 'utf8')).match(/-->/g) ?? []).length;
      const key = keyUnder(payload.output.prefix, name);
      await storage.putFile({ bucket: payload.output.bucket, key }, file);
      done += 1;
      await job.progress((done / Math.max(1, total)) * 100);
      return { key, cueCount };
    };
    for (const stream of info.subtitles) {
      const verdict = classifySubtitle(stream.codec);
      if (!verdict.convert) {
        skipped.push({ streamIndex: stream.index, codec: stream.codec, reason: verdict.reason });
        continue;
      }
      const language = safeLang(stream.language);
      // -copyts: cue times as authored, not shifted by the container's start offset.
      const out = await convert(
        ['-copyts', ...inputArgs(input), '-map', `0:${stream.index}`],
        `sub_${language}_${stream.index}.vtt`,
      );
      tracks.push({
        ...out,
        language,
        label: subtitleLabel(language, stream.title),
        origin: 'embedded',
        streamIndex: stream.index,
      });
    }
    for (const [i, sidecar] of (payload.sidecars ?? []).entries()) {
      const path = await storage.localPath({ bucket: sidecar.bucket, key: sidecar.key });
      const language = safeLang(sidecar.language);
      const out = await convert(inputArgs(path, 'subtitle'), `sub_${language}_sidecar${i}.vtt`);
      tracks.push({ ...out, language, label: subtitleLabel(language, undefined), origin: 'sidecar' });
    }
  });
  await job.progress(100);
  return { tracks, skipped };
}
