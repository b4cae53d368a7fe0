import { avc1Codec } from './codecs.js';
import { MediaError } from './errors.js';
import { runLog, ToolError, tools } from './ffmpeg.js';
import { ffmpegInput } from './input.js';

/** The first sequence parameter set of an H.264 stream: what a decoder is told it must support. */
export interface H264Sps {
  profileIdc: number;
  /** `constraint_set0_flag` … `constraint_set5_flag` and the two reserved bits, as the SPS's second byte. */
  constraintFlags: number;
  levelIdc: number;
  /** RFC 6381 `avc1.PPCCLL` from those three bytes, as HLS CODECS and MSE want it. */
  codec: string;
  /** The VUI's colour description (H.273 code points), when the stream carries one. */
  colour: { primaries: number; transfer: number; matrix: number } | undefined;
}

/** How much of ffmpeg's trace is read: the SPS comes first, long before this. */
const MAX_TRACE_CHARS = 1 << 20;

/**
 * Reads the SPS of H.264 stream `index` of `path` from its bytes, not from what the container
 * says: ffmpeg's `trace_headers` bitstream filter prints each syntax element of the headers of
 * the first packet (and of the stream's extradata). The profile ffprobe names loses the
 * constraint flags (`Constrained Baseline` is 42e0 or 42c0), which CODECS must carry exactly.
 */
export async function h264Sps(path: string, index: number, signal?: AbortSignal): Promise<H264Sps> {
  let trace: string;
  try {
    trace = await runLog(
      tools.ffmpeg,
      [
        ...ffmpegInput(path, ['-loglevel', 'debug']),
        '-map',
        `0:${index}`,
        '-c',
        'copy',
        '-bsf:v',
        'trace_headers',
        '-frames:v',
        '1',
        '-f',
        'null',
        '-',
      ],
      { signal, maxChars: MAX_TRACE_CHARS, keep: 'head' },
    );
  } catch (error) {
    if (error instanceof ToolError) {
      throw new MediaError('NOT_MEDIA', `the H.264 headers of stream ${index} cannot be read`, { cause: error });
    }
    throw error;
  }
  const sps = parseSpsTrace(trace);
  if (!sps) throw new MediaError('NOT_MEDIA', `stream ${index} has no H.264 sequence parameter set`);
  return sps;
}

/** The first SPS in a `trace_headers` log; undefined when there is none. */
export function parseSpsTrace(trace: string): H264Sps | undefined {
  const start = trace.indexOf('Sequence Parameter Set');
  if (start < 0) return undefined;
  const end = trace.indexOf('Parameter Set', start + 'Sequence Parameter Set'.length);
  const block = trace.slice(start, end < 0 ? undefined : end);
  const field = (name: string): number | undefined => {
    const m = new RegExp(`\\s${name}\\s+[01]+ = (\\d+)`).exec(block);
    return m ? Number(m[1]) : undefined;
  };
  const profileIdc = field('profile_idc');
  const levelIdc = field('level_idc');
  if (profileIdc === undefined || levelIdc === undefined) return undefined;
  let constraintFlags = 0;
  for (let i = 0; i < 6; i++) constraintFlags |= (field(`constraint_set${i}_flag`) ?? 0) << (7 - i);
  constraintFlags |= field('reserved_zero_2bits') ?? 0;
  const described = field('colour_description_present_flag') === 1;
  const primaries = field('colour_primaries');
  const transfer = field('transfer_characteristics');
  const matrix = field('matrix_coefficients');
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    codec: avc1Codec(profileIdc, constraintFlags, levelIdc),
    colour:
      described && primaries !== undefined && transfer !== undefined && matrix !== undefined
        ? { primaries, transfer, matrix }
        : undefined,
  };
}
