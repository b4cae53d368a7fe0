import { appendFile, stat } from 'node:fs/promises';
/** One media playlist's segments. */
export interface MediaPlaylist {
  segments: { uri: string; duration: number }[];
  targetDuration: number;
  ended: boolean;
}

/** Parses an HLS media playlist (the subset ffmpeg writes for VOD). */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== '#EXTM3U') throw new Error('not an HLS playlist (no #EXTM3U)');
  const segments: MediaPlaylist['segments'] = [];
  let pending: number | undefined;
  let targetDuration = 0;
  for (const line of lines) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(line.split(':')[1]);
    else if (line.startsWith('#EXTINF:')) pending = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith('#')) {
      if (pending === undefined) throw new Error(`segment ${line} has no #EXTINF`);
      segments.push({ uri: line, duration: pending });
      pending = undefined;
    }
  }
  return { segments, targetDuration, ended: lines.includes('#EXT-X-ENDLIST') };
}

/** One variant of a master playlist. */
export interface Variant {
  uri: string;
  attributes: Record<string, string>;
}

/** Parses a master playlist's `#EXT-X-STREAM-INF` entries. */
export function parseMasterPlaylist(text: string): Variant[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== '#EXTM3U') throw new Error('not an HLS playlist (no #EXTM3U)');
  const variants: Variant[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!line.startsWith('#EXT-X-STREAM-INF:')) continue;
    const attributes: Record<string, string> = {};
    for (const m of line.slice(18).matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) {
      attributes[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '');
    }
    variants.push({ uri: lines[i + 1] ?? '', attributes });
  }
  return variants;
}

/**
 * Fewest 188-byte packets an MPEG-TS segment is stored with. ffmpeg's HLS reader (and mpv and Kodi,
 * which use it) probes a segment's first packets and refuses one of ten or fewer: a second of
 * quiet AAC is nine. Shorter segments are padded with null packets (PID 0x1FFF), which every
 * demuxer skips.
 */
export const MIN_SEGMENT_PACKETS = 16;

/** Pads the MPEG-TS segment `file` with null packets up to {@link MIN_SEGMENT_PACKETS}; true when it did. */
export async function padShortSegment(file: string): Promise<boolean> {
  const size = (await stat(file)).size;
  const packets = Math.floor(size / TS_PACKET_BYTES);
  if (packets >= MIN_SEGMENT_PACKETS || size % TS_PACKET_BYTES !== 0) return false;
  const nul = Buffer.alloc(TS_PACKET_BYTES, 0xff);
  nul.set([0x47, 0x1f, 0xff, 0x10]);
  await appendFile(file, Buffer.concat(Array.from({ length: MIN_SEGMENT_PACKETS - packets }, () => nul)));
  return true;
}

const TS_PACKET_BYTES = 188;
