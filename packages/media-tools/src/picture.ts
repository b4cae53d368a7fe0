/**
 * What the viewer sees of a video stream, from what the container and codec
 * say: display-matrix rotation and flips, sample aspect ratio, colour, field
 * order and frame rate; and the ffmpeg filters that turn the decoded frames
 * into upright, square-pixel, progressive, SDR BT.709 pictures.
 */

/** How the stored picture is turned for display: ffmpeg's reading of the display matrix. */
export interface Orientation {
  /** Clockwise degrees applied for display. */
  rotation: 0 | 90 | 180 | 270;
  /** Mirrored left-right / top-bottom on top of the rotation (front cameras, some editors). */
  hflip: boolean;
  vflip: boolean;
  /** The filters that apply it (`transpose`, `hflip`, `vflip`), in order; empty when upright. */
  filters: string[];
}

const UPRIGHT: Orientation = { rotation: 0, hflip: false, vflip: false, filters: [] };

/** The nine int32 values of ffprobe's `displaymatrix` text (three rows of `index: a b c`). */
export function parseDisplayMatrix(text: string | undefined): number[] | undefined {
  if (!text) return undefined;
  const values = text
    .split('\n')
    .map((line) => line.replace(/^\s*[0-9a-f]+:/i, '').trim())
    .filter(Boolean)
    .flatMap((line) => line.split(/\s+/).map(Number));
  return values.length === 9 && values.every(Number.isFinite) ? values : undefined;
}

/**
 * The orientation a display matrix asks for, as ffmpeg (6.1 and later, which
 * also reads flips) interprets it: the angle is `av_display_rotation_get`
 * negated and rounded; 90 and 270 are transposes (with a flip when the
 * matrix mirrors), 180 is a horizontal and/or vertical flip by the signs of
 * the diagonal, 0 with a negative vertical scale is a vertical flip.
 * Angles that are not a multiple of 90 are treated as upright.
 */
export function orientationOf(matrix: number[] | undefined): Orientation {
  if (!matrix) return UPRIGHT;
  const [m0 = 0, m1 = 0, , m3 = 0, m4 = 0] = matrix;
  const scale0 = Math.hypot(m0, m3);
  const scale1 = Math.hypot(m1, m4);
  if (scale0 === 0 || scale1 === 0) return UPRIGHT;
  const displayRotation = -((Math.atan2(m1 / scale1, m0 / scale0) * 180) / Math.PI);
  let theta = -Math.round(displayRotation);
  theta -= 360 * Math.floor(theta / 360 + 0.9 / 360);
  const near = (angle: number) => Math.abs(theta - angle) < 1;
  if (near(90)) {
    const flip = m3 > 0;
    return { rotation: 90, hflip: flip, vflip: false, filters: [`transpose=${flip ? 'cclock_flip' : 'clock'}`] };
  }
  if (near(180)) {
    const hflip = m0 < 0;
    const vflip = m4 < 0;
    // Both flips are a half turn; one alone is a mirror.
    const rotation = hflip && vflip ? 180 : 0;
    return {
      rotation,
      hflip: hflip && !vflip,
      vflip: vflip && !hflip,
      filters: [...(hflip ? ['hflip'] : []), ...(vflip ? ['vflip'] : [])],
    };
  }
  if (near(270)) {
    const flip = m3 < 0;
    return { rotation: 270, hflip: flip, vflip: false, filters: [`transpose=${flip ? 'clock_flip' : 'cclock'}`] };
  }
  if (near(0) && m4 < 0) return { rotation: 0, hflip: false, vflip: true, filters: ['vflip'] };
  return UPRIGHT;
}

/** A `num:den` or `num/den` ratio as a number; `fallback` when absent, zero or malformed. */
export function ratio(value: string | undefined, fallback: number): number {
  const [n, d] = (value ?? '').split(/[:/]/).map(Number);
  return n && d && Number.isFinite(n / d) && n / d > 0 ? n / d : fallback;
}

/** Even, at least 2: what H.264 4:2:0 needs. */
export const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

/**
 * The size the viewer sees: the coded size with the sample aspect ratio
 * applied to the width, then turned by the orientation.
 */
export function displaySize(
  width: number,
  height: number,
  sampleAspectRatio: number,
  orientation: Orientation,
): { width: number; height: number } {
  const w = Math.round(width * sampleAspectRatio);
  const turned = orientation.rotation === 90 || orientation.rotation === 270;
  return turned ? { width: height, height: w } : { width: w, height };
}

/** Transfer characteristics of high dynamic range video, by ffprobe's names. */
export type HdrTransfer = 'smpte2084' | 'arib-std-b67';

/** Colour as the stream declares it (ffprobe names), and whether it is HDR. */
export interface Colour {
  primaries: string | undefined;
  transfer: string | undefined;
  matrix: string | undefined;
  bitDepth: number;
  /** PQ (HDR10, Dolby Vision base layers) or HLG; `undefined` for SDR. */
  hdr: HdrTransfer | undefined;
}

/** HDR when the transfer is PQ or HLG. BT.2020 primaries alone (SDR wide gamut) are not. */
export function hdrOf(transfer: string | undefined): HdrTransfer | undefined {
  return transfer === 'smpte2084' || transfer === 'arib-std-b67' ? transfer : undefined;
}

/**
 * The tone-mapping chain for an HDR source: linearise (zscale, nominal peak
 * 100 nits), convert BT.2020 primaries to BT.709 in linear light, compress
 * highlights with the Hable curve, then BT.709 transfer and matrix, limited
 * range, 8-bit 4:2:0. Hable is a filmic curve: it keeps mid-tones close to
 * the source, rolls highlights off smoothly instead of clipping them and
 * lifts no blacks; `desat=0` keeps highlight colour (the default desaturates
 * bright areas towards white).
 */
export function toneMapFilters(colour: Colour): string[] {
  if (!colour.hdr) return [];
  const input = `tin=${colour.hdr}:pin=${colour.primaries ?? 'bt2020'}:min=${colour.matrix ?? 'bt2020nc'}`;
  return [
    `zscale=${input}:t=linear:npl=100`,
    'format=gbrpf32le',
    'zscale=p=bt709',
    'tonemap=tonemap=hable:desat=0',
    'zscale=t=bt709:m=bt709:r=tv',
    'format=yuv420p',
  ];
}

/** Field order as ffprobe reports it, reduced to what matters. */
export type FieldOrder = 'progressive' | 'tff' | 'bff' | 'unknown';

export function fieldOrderOf(value: string | undefined): FieldOrder {
  if (value === 'progressive') return 'progressive';
  if (value === 'tt' || value === 'tb') return 'tff';
  if (value === 'bb' || value === 'bt') return 'bff';
  return 'unknown';
}

/** Highest output frame rate. */
export const MAX_FPS = 60;
const STANDARD_RATES = [24000 / 1001, 24, 25, 30000 / 1001, 30, 50, 60000 / 1001, 60];

/**
 * The constant rate to encode at: the stream's nominal rate (`r_frame_rate`,
 * which variable-rate phone footage reports as its capture rate) when it is
 * plausible, else the average; snapped to a standard rate within 1 %,
 * capped at {@link MAX_FPS}.
 */
export function outputFps(nominal: string | undefined, average: string | undefined): number {
  const r = ratio(nominal, 0);
  const avg = ratio(average, 0);
  let fps = r >= 1 && r <= 240 ? r : avg >= 1 ? avg : 25;
  // A nominal rate far above the average is a timebase, not a frame rate (e.g. 90000/1).
  if (avg >= 1 && fps > avg * 2.5) fps = avg;
  const nearest = STANDARD_RATES.reduce((a, b) => (Math.abs(b - fps) < Math.abs(a - fps) ? b : a));
  const standard = Math.abs(nearest - fps) / nearest < 0.01 ? nearest : undefined;
  return Math.min(MAX_FPS, standard ?? Math.round(fps * 1000) / 1000);
}

/** `fps` for ffmpeg's `fps` filter: exact NTSC rates as fractions. */
export function fpsExpression(fps: number): string {
  for (const [value, text] of [
    [24000 / 1001, '24000/1001'],
    [30000 / 1001, '30000/1001'],
    [60000 / 1001, '60000/1001'],
  ] as const) {
    if (Math.abs(fps - value) < 1e-6) return text;
  }
  return String(fps);
}

/** Options of {@link pictureFilters}. */
export interface PictureOptions {
  /** Deinterlace with bwdif (one frame per frame, field order from the probe or idet). */
  deinterlace: 'tff' | 'bff' | false;
  /** Emit frames at the stream's constant output rate (`fps`); for encodes, not for thumbnails. */
  constantRate: boolean;
}

/**
 * The filters between the decoder and any scaling, for every consumer of a
 * video (the ladder, thumbnails, the still frame): deinterlace, tone-map HDR
 * to SDR, turn upright, constant frame rate. The consumer then scales to a
 * size computed from the display size and converts with {@link scaleTo}.
 */
export function pictureFilters(video: VideoLike, options: PictureOptions): string[] {
  return [
    ...(options.deinterlace ? [`bwdif=mode=send_frame:parity=${options.deinterlace}:deint=all`] : []),
    ...toneMapFilters(video.colour),
    ...video.orientation.filters,
    ...(options.constantRate ? [`fps=${fpsExpression(video.fps)}`] : []),
  ];
}

/** What {@link pictureFilters} reads of a probed video. */
export interface VideoLike {
  colour: Colour;
  orientation: Orientation;
  fps: number;
}

/** The YUV matrix of the frames that leave {@link pictureFilters}, as swscale names it. */
export type Matrix = 'bt709' | 'bt601' | 'bt2020';

/**
 * The matrix of the picture chain's output: BT.709 after tone-mapping; else
 * what the stream declares; untagged streams as players read them (BT.601
 * below 720 lines, BT.709 from 720 up).
 */
export function matrixOf(video: VideoLike & { coded: { height: number } }): Matrix {
  if (video.colour.hdr) return 'bt709';
  const m = video.colour.matrix;
  if (m === 'bt709') return 'bt709';
  if (m === 'smpte170m' || m === 'bt470bg' || m === 'fcc' || m === 'smpte240m') return 'bt601';
  if (m === 'bt2020nc' || m === 'bt2020c') return 'bt2020';
  return video.coded.height < 720 ? 'bt601' : 'bt709';
}

/**
 * Scales to `width` × `height` with square pixels and 8-bit 4:2:0 in the
 * BT.709 matrix: a BT.601 picture (DVD) is converted, not just relabelled;
 * a BT.709 one is only scaled (a matrix conversion costs as much as the scale).
 */
export function scaleTo(width: number, height: number, from: Matrix): string {
  const convert = from === 'bt709' ? '' : `:in_color_matrix=${from}:out_color_matrix=bt709`;
  return `scale=${width}:${height}:flags=bicubic${convert},setsar=1,format=yuv420p`;
}

/** Encoder options that tag every output with what it really is: BT.709 primaries, transfer and matrix. */
export const BT709_TAGS = [
  '-color_primaries',
  'bt709',
  '-color_trc',
  'bt709',
  '-colorspace',
  'bt709',
  '-color_range',
  'tv',
];

/**
 * The filters that fit a picture of display size `width` × `height` inside a
 * `boxWidth` × `boxHeight` tile with its aspect ratio kept and black bars
 * (never enlarged beyond the box), square pixels, BT.709.
 */
export function letterbox(width: number, height: number, boxWidth: number, boxHeight: number, from: Matrix): string[] {
  const scale = Math.min(boxWidth / width, boxHeight / height);
  const w = Math.min(boxWidth, even(width * scale));
  const h = Math.min(boxHeight, even(height * scale));
  return [scaleTo(w, h, from), `pad=${boxWidth}:${boxHeight}:(ow-iw)/2:(oh-ih)/2:black`];
}
