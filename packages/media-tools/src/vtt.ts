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
