/**
 * Where things live inside a media item (under its prefix, `hlsLayout().prefixFor(mediaId)` or an
 * ingest's `output`): one table that every writer (the workers) and reader (the gateway, the
 * ingest's fan-out) builds its keys from, like the key table of `@nself-tv/redis-keys`. The README's
 * table is rendered from it.
 */
export const ITEM_LAYOUT = {
  master: {
    path: 'master.m3u8',
    what: 'The HLS master playlist: growing while the transcode runs, then final.',
    writtenBy: 'video:transcode',
    readBy: 'players, through the gateway (signed URLs or nginx `auth_request`)',
  },
  still: {
    path: 'still.jpg',
    what: 'One frame of the picture, upright and square-pixelled: what the posters are made from.',
    writtenBy: 'video:transcode',
    readBy: 'image:poster',
  },
  trickplay: {
    path: 'trickplay/',
    /** The WebVTT that players load, inside the folder. */
    index: 'trickplay.vtt',
    /** Inside the folder: the chunks' single thumbnails, until the assembly tiles them into sheets. */
    scratch: 'frames/',
    what: 'Scrubbing thumbnails: `trickplay.vtt` and its 10x10 sheets (`frames/` inside while the chunks make them).',
    writtenBy: 'video:transcode (or video:trickplay)',
    readBy: 'players (the gateway signs `trickplay/trickplay.vtt`)',
  },
  frames: {
    path: 'frames/',
    what: "Single frames from the transcode's decode, one per sprite interval.",
    writtenBy: 'video:transcode',
    readBy: 'image:sprite',
  },
  subtitles: {
    path: 'subtitles/',
    what: "WebVTT renditions of the source's text, picture (OCR) and sidecar subtitles, listed in the master.",
    writtenBy: 'video:subtitle',
    readBy: 'players',
  },
  posters: {
    path: 'posters/',
    what: 'Posters in the catalogue sizes.',
    writtenBy: 'image:poster',
    readBy: 'the catalogue',
  },
  sprites: {
    path: 'sprites/',
    what: 'Sprite sheets of the frames, with their WebVTT.',
    writtenBy: 'image:sprite',
    readBy: 'the catalogue',
  },
  access: {
    path: 'access.json',
    what: 'Which families may play the item: recorded by the ingest before anything is written.',
    writtenBy: 'the ingest',
    readBy: 'the gateway, at admit (`PLAYBACK_ACCESS=owner`)',
  },
} as const satisfies Record<
  string,
  { path: string; index?: string; scratch?: string; what: string; writtenBy: string; readBy: string }
>;

/** An entry of {@link ITEM_LAYOUT}. */
export type ItemEntry = keyof typeof ITEM_LAYOUT;

/**
 * An object key under a prefix: the one joining rule (`''`, `hls/m1` and `hls/m1/` all work).
 * @example keyUnder('library/m1', 'master.m3u8') // 'library/m1/master.m3u8'
 */
export const keyUnder = (prefix: string, rel: string): string =>
  `${prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`}${rel}`;

/**
 * The key of an entry of a media item, or of a file inside a folder entry.
 * @example itemKey('library/m1/', 'trickplay', 'trickplay.vtt') // 'library/m1/trickplay/trickplay.vtt'
 */
export const itemKey = (prefix: string, entry: ItemEntry, inside = ''): string =>
  keyUnder(prefix, `${ITEM_LAYOUT[entry].path}${inside}`);

/** Where a job writes: a bucket and a key prefix. */
export interface ItemOutput {
  readonly bucket: string;
  readonly prefix: string;
}

/** A folder entry of a media item as an output location, for the job that writes it. */
export const itemFolder = (output: ItemOutput, entry: ItemEntry): ItemOutput => ({
  bucket: output.bucket,
  prefix: itemKey(output.prefix, entry),
});

/** The README table of {@link ITEM_LAYOUT}. */
export function renderItemLayoutTable(): string {
  const rows = Object.values(ITEM_LAYOUT).map((e) => `| \`${e.path}\` | ${e.what} | ${e.writtenBy} | ${e.readBy} |`);
  return ['| Path in the item | What | Written by | Read by |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
