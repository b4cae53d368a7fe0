import { join } from 'node:path';
import { letterbox, type Matrix } from './picture.js';

/**
 * Thumbnail sheets, in one place: the filters that make a tile of a video's
 * frame, how tiles are laid out on sheets and named, the ffmpeg arguments that
 * tile them, and the WebVTT index the nself-tv player reads. The apps choose
 * the sizes (a {@link Grid}); the trickplay job, the transcode and the sprite
 * stage all tile through here.
 */

/** `HH:MM:SS.mmm`, as WebVTT cues and the nself-tv player expect. */
export function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** A thumbnail grid: `columns` × `rows` tiles of `width` × `height` per sheet. */
export interface Grid {
  columns: number;
  rows: number;
  width: number;
  height: number;
}

/** The sheet and position of thumbnail `i`. */
export function tilePosition(i: number, grid: Grid): { sheet: number; x: number; y: number } {
  const perSheet = grid.columns * grid.rows;
  const within = i % perSheet;
  return {
    sheet: Math.floor(i / perSheet),
    x: (within % grid.columns) * grid.width,
    y: Math.floor(within / grid.columns) * grid.height,
  };
}

/**
 * The thumbnail index VTT: one cue per thumbnail, `start --> end` then
 * `<sheet>#xywh=x,y,w,h`; thumbnail i covers [times[i], times[i+1]) and the
 * last one ends at the duration.
 */
export function thumbnailVtt(
  times: number[],
  durationSeconds: number,
  grid: Grid,
  sheetName: (sheet: number) => string,
): string {
  const lines = ['WEBVTT', ''];
  times.forEach((start, i) => {
    const end = i + 1 < times.length ? (times[i + 1] as number) : durationSeconds;
    const { sheet, x, y } = tilePosition(i, grid);
    lines.push(
      `${vttTime(start)} --> ${vttTime(Math.max(end, start))}`,
      `${sheetName(sheet)}#xywh=${x},${y},${grid.width},${grid.height}`,
      '',
    );
  });
  return lines.join('\n');
}

/**
 * The interval between thumbnails of a `durationSeconds` video: the one asked
 * for, widened (to the next millisecond) when it would make more than
 * `maxThumbnails` (the queues' `MAX_THUMBNAILS`), so the output count has a
 * bound whatever the payload says.
 */
export function thumbnailIntervalFor(durationSeconds: number, askedSeconds: number, maxThumbnails: number): number {
  const widest = Math.ceil((durationSeconds / maxThumbnails) * 1000) / 1000;
  return Math.max(askedSeconds, widest);
}

/** The name of sheet `i`: `sprite_000.jpg`, …, as the player's VTT refers to them. */
export const sheetName = (i: number): string => `sprite_${String(i).padStart(3, '0')}.jpg`;
/** The name of thumbnail frame `i` before tiling: `frame_00000.jpg`, …. */
export const frameName = (i: number): string => `frame_${String(i).padStart(5, '0')}.jpg`;
/** ffmpeg's image2 patterns of {@link sheetName} and {@link frameName}. */
export const SHEET_FILES = 'sprite_%03d.jpg';
export const FRAME_FILES = 'frame_%05d.jpg';

/** A frame letterboxed into a `tile` by its display aspect ratio (black bars), converted from `from`. */
export const tileFilters = (
  display: { width: number; height: number },
  tile: { width: number; height: number },
  from: Matrix,
): string[] => letterbox(display.width, display.height, tile.width, tile.height, from);

/** One frame every `interval` seconds from 0, letterboxed into a `tile` (the picture filters come first). */
export const thumbnailFilters = (
  interval: number,
  display: { width: number; height: number },
  tile: { width: number; height: number },
  from: Matrix,
): string[] => [`fps=1/${interval}:start_time=0:round=down:eof_action=pass`, ...tileFilters(display, tile, from)];

/** The filter that lays tiles out row by row on `grid` sheets. */
export const sheetFilter = (grid: Grid): string => `tile=${grid.columns}x${grid.rows}`;

/** ffmpeg output options that write `sheetCount` sheets as {@link sheetName} into `dir`. */
export const sheetOutput = (sheetCount: number, dir: string): string[] => [
  ...['-frames:v', String(sheetCount), '-q:v', '3', '-start_number', '0', '-f', 'image2'],
  join(dir, SHEET_FILES),
];

/** ffmpeg input options that read the frames {@link frameName} wrote into `dir` and tile them on `grid` sheets. */
export const tileFramesInput = (dir: string, grid: Grid): string[] => [
  ...['-f', 'image2', '-framerate', '1', '-start_number', '0', '-i', join(dir, FRAME_FILES)],
  ...['-vf', sheetFilter(grid)],
];

/** One sheet of a layout: which thumbnails it holds and its size in pixels. */
export interface SheetSpan {
  index: number;
  firstThumbnail: number;
  lastThumbnail: number;
  columns: number;
  rows: number;
  width: number;
  height: number;
}

/**
 * How `count` thumbnails fill `grid` sheets. Every sheet has the grid's full
 * size (what ffmpeg's `tile` writes), or, with `trim`, the last one only as
 * many columns and rows as its thumbnails need.
 */
export function sheetLayout(count: number, grid: Grid, options: { trim: boolean }): SheetSpan[] {
  const perSheet = grid.columns * grid.rows;
  return Array.from({ length: Math.ceil(count / perSheet) }, (_, index) => {
    const first = index * perSheet;
    const last = Math.min(count, first + perSheet) - 1;
    const n = last - first + 1;
    const columns = options.trim ? Math.min(n, grid.columns) : grid.columns;
    const rows = options.trim ? Math.ceil(n / grid.columns) : grid.rows;
    return {
      index,
      firstThumbnail: first,
      lastThumbnail: last,
      columns,
      rows,
      width: columns * grid.width,
      height: rows * grid.height,
    };
  });
}
