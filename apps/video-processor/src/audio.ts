import { AUDIO_CODECS, ffmpegInput } from '@nself-tv/media-tools';
import { z } from 'zod';
import { hlsMuxArgs } from './hls-output.js';

/**
 * The audio of a film: every track measured once (EBU R128: integrated loudness, loudness range,
 * true peak), a stereo AAC rendition brought to one loudness by a fixed gain, and for a surround
 * track an AC-3 or E-AC-3 rendition beside it.
 *
 * The gain is linear: one number for the whole film, so nothing pumps. Where that gain would push
 * the true peak over the ceiling (a quiet film with loud explosions), a look-ahead limiter on the
 * 4x-oversampled signal takes only those peaks down, rather than a dynamic normaliser riding the
 * level every few seconds (`loudnorm`'s dynamic mode, which is what pumps).
 */

/** How a track's stereo rendition is levelled, and how a surround track's renditions are made. */
export const audioSettings = z.object({
  /** Integrated loudness of the stereo rendition, LUFS (`AUDIO_LOUDNESS`); null: left as it is. */
  loudness: z.number().min(-70).max(0).nullable(),
  /** True-peak ceiling of the stereo rendition, dBTP (`AUDIO_TRUE_PEAK`). */
  truePeak: z.number().min(-20).max(0),
  /** The stereo downmix of a surround track (`AUDIO_DOWNMIX`). */
  downmix: z.enum(['dialogue', 'itu']),
  /** The multichannel rendition of a 5.1/7.1 track (`AUDIO_SURROUND`); null: stereo only. */
  surround: z.enum(['ac3', 'eac3']).nullable(),
});
export type AudioSettings = z.infer<typeof audioSettings>;

/** Audio settings of work planned before levelling: the level kept, an ITU downmix, stereo only. */
export const LEGACY_AUDIO: AudioSettings = { loudness: null, truePeak: -1, downmix: 'itu', surround: null };

export const DEFAULT_AUDIO: AudioSettings = { loudness: -18, truePeak: -1, downmix: 'dialogue', surround: 'ac3' };

/** Bit rate of every stereo AAC rendition, kbps. */
export const AUDIO_KBPS = 128;

/** The most a film is made louder, dB: beyond it a near-silent track would only bring up its noise. */
export const MAX_GAIN_DB = 20;
/** Room left under the ceiling for what AAC encoding adds to the peaks, dB. */
const CODEC_HEADROOM_DB = 0.5;
/** Bit rates of the multichannel renditions, kbps: what Apple's HLS authoring spec lists for 5.1. */
export const SURROUND_KBPS = { ac3: 384, eac3: 192 } as const;

/**
 * The stereo downmixes: `dialogue` keeps the centre (where films put dialogue) at full level, the
 * fronts 3 dB and the surrounds 6 dB under it, so a mix loud in effects still carries its words;
 * `itu` is ITU-R BS.775's (swresample's): centre and surrounds 3 dB under the fronts. The LFE is
 * left out of both, as those standards do.
 */
export type Downmix = AudioSettings['downmix'];

/** The `pan` filter of a `channels`-channel track's stereo downmix; undefined: swresample's own. */
export function downmixFilter(channels: number, mode: Downmix): string | undefined {
  if (mode === 'itu' || channels <= 2) return undefined;
  if (channels === 6) return 'aformat=channel_layouts=5.1,pan=stereo|FL=FC+0.707*FL+0.5*BL|FR=FC+0.707*FR+0.5*BR';
  if (channels === 8)
    return 'aformat=channel_layouts=7.1,pan=stereo|FL=FC+0.707*FL+0.5*SL+0.5*BL|FR=FC+0.707*FR+0.5*SR+0.5*BR';
  return undefined;
}

/** The filters from a decoded track to its stereo signal (float, not yet levelled). */
function stereoChain(channels: number, mode: Downmix): string[] {
  const pan = downmixFilter(channels, mode);
  if (pan) return [pan];
  return [`aresample=ochl=${channels === 1 ? 'mono' : 'stereo'}`, 'aformat=channel_layouts=stereo'];
}

/** EBU R128 measurement of one signal. */
export interface Loudness {
  /** Integrated loudness, LUFS (−70 for silence). */
  integrated: number;
  /** Loudness range, LU. */
  range: number;
  /** True peak, dBTP (−Infinity for silence, reported as null in results). */
  truePeak: number;
}

/** One track as the audio part treats it. */
export const audioTrackWork = z.object({
  index: z.number().int().nonnegative(),
  name: z.string().regex(/^audio_[A-Za-z0-9-]+_\d+$/),
  // Absent in parts queued before the sound work: those keep its stereo-only downmix.
  channels: z.number().int().positive().max(64).default(2),
  copy: z.boolean().optional(),
  /** The multichannel rendition: its folder, and whether the source's own AC-3/E-AC-3 is copied. */
  surround: z
    .object({
      name: z.string().regex(/^audio_[A-Za-z0-9-]+_\d+_mc$/),
      codec: z.enum(['ac3', 'eac3']),
      copy: z.boolean(),
    })
    .strict()
    .optional(),
});
export type AudioTrackWork = z.infer<typeof audioTrackWork>;

const meter = (name: string) => `ebur128@${name}=peak=true:framelog=verbose,anullsink`;
const measuring = (input: string, graph: string[]) => [
  ...ffmpegInput(input, ['-vn', '-sn']),
  ...['-filter_complex', graph.join(';'), '-f', 'null', '-'],
];

/** The first pass: every track decoded once, measured as it is (`src<i>`) and as the stereo it becomes (`dm<i>`). */
export function measureArgs(input: string, tracks: readonly AudioTrackWork[], settings: AudioSettings): string[] {
  return measuring(
    input,
    tracks.map((t, i) => {
      const stereo = stereoChain(t.channels, settings.downmix).join(',');
      return `[0:${t.index}]asplit=2[s${i}][d${i}];[s${i}]${meter(`src${i}`)};[d${i}]${stereo},${meter(`dm${i}`)}`;
    }),
  );
}

/**
 * The check pass, for tracks whose peaks the limiter takes down: the limited stereo measured
 * (`lim<i>`), since what the limiter takes from loud passages the gain must give back.
 */
export function limitedMeasureArgs(
  input: string,
  tracks: ReadonlyArray<{ track: AudioTrackWork; level: Levelling; i: number }>,
  settings: AudioSettings,
): string[] {
  return measuring(
    input,
    tracks.map(
      ({ track, level, i }) =>
        `[0:${track.index}]${levelFilters(track, settings, level).join(',')},${meter(`lim${i}`)}`,
    ),
  );
}

/** ebur128's last summary of instance `name` in ffmpeg's log. */
export function parseSummary(log: string, name: string): Loudness | undefined {
  const at = log.lastIndexOf(`[ebur128@${name} @`);
  if (at < 0) return undefined;
  const text = log.slice(at, at + 1000);
  const num = (re: RegExp) => {
    const m = re.exec(text)?.[1];
    return m === undefined ? undefined : m === '-inf' ? Number.NEGATIVE_INFINITY : Number(m);
  };
  const integrated = num(/I:\s+(-?[\d.]+|-inf) LUFS/);
  const range = num(/LRA:\s+(-?[\d.]+) LU/);
  const truePeak = num(/Peak:\s+(-?[\d.]+|-inf) dBFS/);
  if (integrated === undefined || range === undefined || truePeak === undefined) return undefined;
  return { integrated, range, truePeak };
}

/** How the stereo rendition is levelled: the gain, and whether the limiter is needed for it. */
export interface Levelling {
  gainDb: number;
  limited: boolean;
  /**
   * How far under the ceiling the limiter aims, dB: {@link CODEC_HEADROOM_DB}, or more when the
   * stored rendition, measured, came out over the ceiling (what AAC added to sharp peaks).
   */
  headroomDb?: number;
}

/** The most times a rendition is encoded again because its stored true peak was over the ceiling. */
export const MAX_PEAK_RETRIES = 2;
/** What a new attempt aims under the ceiling beyond the overshoot measured, dB. */
const PEAK_RETRY_MARGIN_DB = 0.2;

/**
 * The levelling to encode a rendition with again when what was stored (`stored`, measured) has its
 * true peak over the ceiling: first the limiter on, aiming lower by the overshoot and a margin;
 * when that was not enough (`attempt` 1 on), the gain lowered by what is still over, which always
 * lowers the peaks. The ceiling wins over the loudness target. Undefined when the stored rendition
 * is under the ceiling (or silent).
 */
export function retryUnderCeiling(
  level: Levelling,
  stored: Loudness,
  settings: AudioSettings,
  attempt = 0,
): Levelling | undefined {
  if (!(stored.truePeak > settings.truePeak)) return undefined;
  const over = stored.truePeak - settings.truePeak + PEAK_RETRY_MARGIN_DB;
  const round = (n: number) => Math.round(n * 100) / 100;
  const headroomDb = level.headroomDb ?? CODEC_HEADROOM_DB;
  if (attempt === 0) return { gainDb: level.gainDb, limited: true, headroomDb: round(headroomDb + over) };
  return { gainDb: round(level.gainDb - over), limited: true, headroomDb };
}

/** ebur128 over one stored rendition (its segments joined into `file`), instance `out`. */
export function storedMeasureArgs(file: string): string[] {
  return measuring(file, [`[0:a:0]${meter('out')}`]);
}

/** The gain from `stereo` to the target, bounded; the limiter when the peaks would pass the ceiling. */
export function levelling(stereo: Loudness, settings: AudioSettings): Levelling | undefined {
  if (settings.loudness === null) return undefined;
  // Silence (ebur128's gate leaves nothing) has no loudness to bring anywhere.
  if (!(stereo.integrated > -70)) return { gainDb: 0, limited: false };
  const gainDb = Math.max(-MAX_GAIN_DB, Math.min(MAX_GAIN_DB, settings.loudness - stereo.integrated));
  const rounded = Math.round(gainDb * 100) / 100;
  return { gainDb: rounded, limited: stereo.truePeak + rounded > settings.truePeak - CODEC_HEADROOM_DB };
}

/** The second pass's filters of one track's stereo rendition. */
function levelFilters(t: AudioTrackWork, settings: AudioSettings, level: Levelling | undefined): string[] {
  const chain = stereoChain(t.channels, settings.downmix);
  if (!level) return chain;
  chain.push(`volume=${level.gainDb.toFixed(2)}dB`);
  if (level.limited) {
    // At 192 kHz a sample peak is within a fraction of a dB of the true peak.
    const limit = 10 ** ((settings.truePeak - (level.headroomDb ?? CODEC_HEADROOM_DB)) / 20);
    chain.push('aresample=192000', `alimiter=limit=${limit.toFixed(5)}:attack=5:release=50:level=disabled`);
  }
  chain.push('aresample=48000');
  return chain;
}

/**
 * The second pass: every track's stereo rendition (copied when `copy` says it plays as it is and
 * no levelling is asked, else AAC at `kbps`) and any surround rendition, each its own HLS rendition
 * in `out/<name>/`, on the film's timestamps (moved by `tsOffset` like the video's).
 */
export function audioArgs(
  input: string,
  out: string,
  tracks: readonly AudioTrackWork[],
  levels: ReadonlyArray<Levelling | undefined>,
  settings: AudioSettings,
  kbps: number,
  segmentSeconds: number,
  tsOffset: number,
): string[] {
  const args = ffmpegInput(input, ['-copyts', '-start_at_zero']);
  const graph: string[] = [];
  const codecs: string[] = [];
  const names: string[] = [];
  let n = 0;
  for (const [i, t] of tracks.entries()) {
    if (t.copy) {
      args.push('-map', `0:${t.index}`);
      codecs.push(`-c:a:${n}`, 'copy');
    } else {
      graph.push(`[0:${t.index}]${levelFilters(t, settings, levels[i]).join(',')}[st${i}]`);
      args.push('-map', `[st${i}]`);
      codecs.push(`-c:a:${n}`, 'aac', `-b:a:${n}`, `${kbps}k`, `-ac:a:${n}`, '2');
    }
    names.push(`a:${n},name:${t.name}`);
    n++;
    if (t.surround) {
      args.push('-map', `0:${t.index}`);
      if (t.surround.copy) codecs.push(`-c:a:${n}`, 'copy');
      else {
        // 7.1 becomes 5.1 (ffmpeg's AC-3 encoders stop there): swresample folds the backs into the sides.
        codecs.push(
          `-c:a:${n}`,
          t.surround.codec,
          `-b:a:${n}`,
          `${SURROUND_KBPS[t.surround.codec]}k`,
          `-ac:a:${n}`,
          '6',
        );
      }
      names.push(`a:${n},name:${t.surround.name}`);
      n++;
    }
  }
  if (graph.length) args.push('-filter_complex', graph.join(';'));
  args.push(...codecs);
  args.push('-output_ts_offset', String(tsOffset), '-progress', 'pipe:1', '-nostats');
  args.push(...hlsMuxArgs(out, { segmentSeconds: String(segmentSeconds), streams: names }));
  return args;
}

/** The CODECS string of an audio rendition. */
export function audioCodec<C extends 'aac' | 'ac3' | 'eac3'>(codec: C): CodecsOf[C] {
  return AUDIO_CODECS[codec];
}
type CodecsOf = typeof AUDIO_CODECS;
