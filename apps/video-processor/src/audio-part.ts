import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runLog, tools } from '@nself-tv/media-tools';
import {
  AUDIO_KBPS,
  audioArgs,
  type Loudness,
  levelling,
  limitedMeasureArgs,
  MAX_GAIN_DB,
  MAX_PEAK_RETRIES,
  measureArgs,
  parseSummary,
  retryUnderCeiling,
  storedMeasureArgs,
} from './audio.js';
import { SEGMENT_SECONDS, TS_OFFSET_SECONDS } from './chunks.js';
import { padShortSegment } from './hls.js';
import type { PartOutput, TranscodePart } from './transcode-plan.js';

/**
 * The audio part of a transcode, run: every track measured (EBU R128), its renditions encoded, and
 * what is stored measured again, so the true-peak ceiling holds on what players get. The filters
 * and arguments are `audio.ts`'s; this is the running of them.
 */

/**
 * The audio part's encode: every track's renditions, then each levelled stereo rendition measured
 * as stored (AAC adds to sharp peaks what no filter before it can see); one over the true-peak
 * ceiling is encoded again with the limiter aiming lower by the overshoot, up to
 * {@link MAX_PEAK_RETRIES} times. `loudness` gets each track's stored true peak.
 */
export async function encodeAudio(
  input: string,
  dir: string,
  part: Extract<TranscodePart, { kind: 'audio' }>,
  loudness: NonNullable<PartOutput['loudness']>,
  encode: (args: string[]) => Promise<unknown>,
  signal: AbortSignal,
): Promise<void> {
  const levels = part.tracks.map((t) => loudness[t.name]?.levelling ?? undefined);
  const folders = part.tracks.flatMap((t) => [t.name, ...(t.surround ? [t.surround.name] : [])]);
  for (let attempt = 0; ; attempt++) {
    await encode(
      audioArgs(input, dir, part.tracks, levels, part.settings, AUDIO_KBPS, SEGMENT_SECONDS, TS_OFFSET_SECONDS),
    );
    // A very short track's one segment would be too small for ffmpeg's HLS reader (and the
    // measuring below) to probe.
    for (const name of folders) {
      for (const seg of (await readdir(join(dir, name))).filter((n) => n.endsWith('.ts'))) {
        await padShortSegment(join(dir, name, seg));
      }
    }
    let again = false;
    for (const [i, t] of part.tracks.entries()) {
      const level = levels[i];
      const entry = loudness[t.name];
      if (!level || !entry || part.settings.loudness === null) continue;
      const stored = await storedLoudness(join(dir, t.name), signal);
      entry.storedTruePeak = stored && Number.isFinite(stored.truePeak) ? stored.truePeak : null;
      const retry = stored && retryUnderCeiling(level, stored, part.settings, attempt);
      if (retry && attempt < MAX_PEAK_RETRIES) {
        levels[i] = retry;
        entry.levelling = retry;
        again = true;
      }
    }
    if (!again) break;
    // The next encode writes every rendition anew.
    for (const name of folders) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/** EBU R128 of one rendition as stored: its segments joined, measured by ebur128. */
async function storedLoudness(folder: string, signal: AbortSignal): Promise<Loudness | undefined> {
  const segments = (await readdir(folder)).filter((n) => /^seg_\d+\.ts$/.test(n)).sort();
  if (segments.length === 0) return undefined;
  const joined = `${folder}.joined.ts`;
  // One segment at a time: a film's audio is a hundred megabytes and more.
  await writeFile(joined, '');
  for (const n of segments) await appendFile(joined, await readFile(join(folder, n)));
  try {
    return parseSummary(await meterLog(storedMeasureArgs(joined), signal), 'out');
  } finally {
    await rm(joined, { force: true });
  }
}

/** Runs an ebur128 pass; its log's tail, where the summaries are (the rest is bounded away). */
function meterLog(args: string[], signal: AbortSignal): Promise<string> {
  return runLog(tools.ffmpeg, args, { signal, maxChars: 256_000, keep: 'tail' });
}

/**
 * The first pass of the audio part: every track's loudness as it is and as the stereo it becomes,
 * and the gain that stereo gets. A track ebur128 could not measure is left at its level.
 */
export async function measureTracks(
  input: string,
  part: Extract<TranscodePart, { kind: 'audio' }>,
  signal: AbortSignal,
): Promise<NonNullable<PartOutput['loudness']>> {
  const log = await meterLog(measureArgs(input, part.tracks, part.settings), signal);
  const out: NonNullable<PartOutput['loudness']> = {};
  for (const [i, t] of part.tracks.entries()) {
    const source = parseSummary(log, `src${i}`);
    const stereo = parseSummary(log, `dm${i}`);
    if (!source || !stereo) throw new Error(`${t.name}: ebur128 reported no loudness`);
    out[t.name] = { source, stereo, levelling: t.copy ? null : (levelling(stereo, part.settings) ?? null) };
  }
  // The limiter takes loudness with the peaks: those tracks are measured once more, limited, and
  // their gain raised by what it took (the limiter stays at the ceiling, so the peaks do too).
  const limited = part.tracks.flatMap((track, i) => {
    const level = out[track.name]?.levelling;
    return level?.limited ? [{ track, level, i }] : [];
  });
  if (limited.length && part.settings.loudness !== null) {
    const target = part.settings.loudness;
    const checked = await meterLog(limitedMeasureArgs(input, limited, part.settings), signal);
    for (const { track, level, i } of limited) {
      const after = parseSummary(checked, `lim${i}`);
      const entry = out[track.name];
      if (!after || !entry || !(after.integrated > -70)) continue;
      const gainDb = Math.min(MAX_GAIN_DB, level.gainDb + (target - after.integrated));
      entry.levelling = { gainDb: Math.round(gainDb * 100) / 100, limited: true };
    }
  }
  return out;
}
