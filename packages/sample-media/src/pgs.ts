// Picture subtitle tracks made from text, as discs
// carry them. Each cue is drawn by ffmpeg (drawtext, a real font with an outline) onto a
// transparent canvas and written as a Blu-ray PGS display set by the writer below (no tool here
// writes .sup). ffmpeg's own dvdsub and dvbsub encoders then turn the PGS track into VobSub and
// DVB tracks, bitmap to bitmap.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, tools } from '@nself-tv/media-tools';

/** One cue of a fixture: its text (lines split by `\n`), times in seconds, and where it sits. */
export interface FixtureCue {
  text: string;
  start: number;
  end: number;
  top?: boolean;
}

interface Rgba {
  width: number;
  height: number;
  pixels: Buffer;
}

/** Reads the RGBA PAM ffmpeg writes. */
function readPam(bytes: Buffer): Rgba {
  const end = bytes.indexOf('ENDHDR\n');
  const header = bytes.subarray(0, end).toString('latin1');
  const field = (name: string) => Number(new RegExp(`${name} (\\d+)`).exec(header)?.[1]);
  if (!header.startsWith('P7') || field('DEPTH') !== 4) throw new Error('not an RGBA PAM');
  return { width: field('WIDTH'), height: field('HEIGHT'), pixels: bytes.subarray(end + 7) };
}

/** Draws `cue` on a transparent `width`x`height` canvas: white (or `colour`) text, black outline. */
async function drawCue(cue: FixtureCue, width: number, height: number, dir: string, i: number, colour: string) {
  const file = join(dir, `cue${i}.pam`);
  const size = Math.round(height / 18);
  const lines = cue.text.split('\n');
  const filters = lines.map((line, l) => {
    const escaped = line.replace(/\\/g, '\\\\\\\\').replace(/'/g, '\u2019').replace(/:/g, '\\:').replace(/%/g, '\\%');
    const row = cue.top
      ? `${Math.round(height * 0.06)}+${l}*${Math.round(size * 1.3)}`
      : `h-${Math.round(height * 0.08)}-${lines.length - l}*${Math.round(size * 1.3)}`;
    return `drawtext=text='${escaped}':fontsize=${size}:fontcolor=${colour}:borderw=${Math.max(2, Math.round(size / 14))}:bordercolor=black:x=(w-tw)/2:y=${row}`;
  });
  await run(tools.ffmpeg, [
    ...['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `color=c=black@0.0:s=${width}x${height}:d=1,format=rgba`],
    ...['-vf', filters.join(','), '-frames:v', '1', file],
  ]);
  return readPam(await readFile(file));
}

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];

/** A PGS segment: 'PG', pts and dts (90 kHz), type, size, payload. */
export function segment(type: number, pts: number, body: number[]): Buffer {
  const head = Buffer.alloc(13);
  head.write('PG', 0, 'latin1');
  head.writeUInt32BE(pts >>> 0, 2);
  head.writeUInt32BE(0, 6);
  head.writeUInt8(type, 10);
  head.writeUInt16BE(body.length, 11);
  return Buffer.concat([head, Buffer.from(body)]);
}

/** The picture cut to its opaque part, its colours quantised to a palette of at most 255. */
function quantise(image: Rgba) {
  const { width, height, pixels } = image;
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if ((pixels[(y * width + x) * 4 + 3] as number) > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  if (x1 < 0) throw new Error('a cue drew nothing');
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const palette = new Map<number, number>();
  const entries: number[][] = [];
  const indices = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const at = ((y + y0) * width + x + x0) * 4;
      const [r, g, b, a] = [0, 1, 2, 3].map((k) => (pixels[at + k] as number) >> 5) as [number, number, number, number];
      if (a === 0) continue;
      const tuple = (r << 9) | (g << 6) | (b << 3) | a;
      let index = palette.get(tuple);
      if (index === undefined) {
        index = entries.length + 1;
        if (index > 255) throw new Error('too many colours');
        palette.set(tuple, index);
        const [R, G, B] = [r, g, b].map((v) => (v * 255) / 7) as [number, number, number];
        // BT.601 limited range, as Blu-ray palettes are.
        const Y = 16 + 0.257 * R + 0.504 * G + 0.098 * B;
        const Cb = 128 - 0.148 * R - 0.291 * G + 0.439 * B;
        const Cr = 128 + 0.439 * R - 0.368 * G - 0.071 * B;
        entries.push([index, Math.round(Y), Math.round(Cr), Math.round(Cb), Math.round((a * 255) / 7)]);
      }
      indices[y * w + x] = index;
    }
  return { x: x0, y: y0, w, h, entries, indices };
}

/** PGS run-length coding of one object, line by line. */
function rle(indices: Uint8Array, w: number, h: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    let x = 0;
    while (x < w) {
      const c = indices[y * w + x] as number;
      let n = 1;
      while (x + n < w && indices[y * w + x + n] === c && n < 16383) n++;
      if (c !== 0 && n < 3) {
        for (let k = 0; k < n; k++) out.push(c);
      } else if (c === 0) {
        out.push(0, ...(n < 64 ? [n] : [0x40 | (n >> 8), n & 0xff]));
      } else {
        out.push(0, ...(n < 64 ? [0x80 | n] : [0xc0 | (n >> 8), n & 0xff]), c);
      }
      x += n;
    }
    out.push(0, 0);
  }
  return out;
}

/** A Blu-ray PGS (.sup) stream of `cues` on a `width`x`height` screen, each shown then cleared. */
export async function pgsFixture(
  cues: readonly FixtureCue[],
  width: number,
  height: number,
  dir: string,
  colour = 'white',
): Promise<Buffer> {
  const out: Buffer[] = [];
  let composition = 0;
  for (const [i, cue] of cues.entries()) {
    const q = quantise(await drawCue(cue, width, height, dir, i, colour));
    const show = Math.round(cue.start * 90_000);
    const clear = Math.round(cue.end * 90_000);
    const screen = [...be16(width), ...be16(height), 0x10];
    out.push(
      segment(0x16, show, [
        ...screen,
        ...be16(composition++),
        0x80,
        0,
        0,
        1,
        ...be16(0),
        0,
        0,
        ...be16(q.x),
        ...be16(q.y),
      ]),
      segment(0x17, show, [1, 0, ...be16(q.x), ...be16(q.y), ...be16(q.w), ...be16(q.h)]),
      segment(0x14, show, [0, 0, ...q.entries.flat()]),
    );
    const data = rle(q.indices, q.w, q.h);
    // An object longer than one segment holds is split: first fragment 0x80, last 0x40.
    const full = [...be16(q.w), ...be16(q.h), ...data];
    const chunks: number[][] = [];
    for (let at = 0; at < full.length; at += 65_000) chunks.push(full.slice(at, at + 65_000));
    chunks.forEach((chunk, k) => {
      const flags = (k === 0 ? 0x80 : 0) | (k === chunks.length - 1 ? 0x40 : 0);
      const length = full.length;
      const head = k === 0 ? [(length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff] : [];
      out.push(segment(0x15, show, [...be16(0), 0, flags, ...head, ...chunk]));
    });
    out.push(segment(0x80, show, []));
    out.push(
      segment(0x16, clear, [...screen, ...be16(composition++), 0x00, 0, 0, 0]),
      segment(0x17, clear, [1, 0, ...be16(q.x), ...be16(q.y), ...be16(q.w), ...be16(q.h)]),
      segment(0x80, clear, []),
    );
  }
  return Buffer.concat(out);
}

/** Writes `cues` as a PGS file `name` in `dir`; returns its path. */
export async function writePgs(
  dir: string,
  name: string,
  cues: readonly FixtureCue[],
  size: { width: number; height: number },
  colour?: string,
): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, await pgsFixture(cues, size.width, size.height, dir, colour));
  return file;
}
