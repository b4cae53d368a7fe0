import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** A playlist line longer than this is not HLS; the rewrite stops there. */
export const MAX_PLAYLIST_LINE_BYTES = 64 * 1024;

/** How a playlist's URIs are rewritten. */
export interface RewriteTarget {
  /** The playlist's path inside the media item (`r720/index.m3u8`). */
  playlistPath: string;
  /**
   * The relative URI from the folder the client fetched the playlist from up to the item's
   * signed root, ending in `/` (`../../<signature>/`): every URI stays relative, so the player
   * stays on whatever host, port and path prefix it reached the playlist through (a proxy, a CDN).
   */
  base: string;
}

/** A URI of the playlist, under `base` when it names a file of the same item; others pass unchanged. */
function rewriteUri(uri: string, target: RewriteTarget): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('/')) return uri;
  const dir = posix.dirname(target.playlistPath);
  const path = posix.normalize(posix.join(dir === '.' ? '' : dir, uri));
  // A URI that climbs out of the item is left as written: relative to the signed URL it names
  // no file of another item (the signature segment is in the way), and the gateway signs nothing for it.
  if (path.startsWith('..')) return uri;
  return `${target.base}${path}`;
}

function rewriteLine(line: string, target: RewriteTarget): string {
  const trimmed = line.trim();
  if (trimmed === '') return line;
  if (!trimmed.startsWith('#')) return rewriteUri(trimmed, target);
  return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${rewriteUri(uri, target)}"`);
}

/**
 * Rewrites a playlist as it streams from the store, line by line: memory stays one line however
 * long the film. A line over {@link MAX_PLAYLIST_LINE_BYTES} ends the stream with an error.
 */
export async function* rewritePlaylist(source: Readable, target: RewriteTarget): AsyncGenerator<string> {
  // A character split across two chunks is decoded whole.
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of source) {
    carry += decoder.write(chunk as Buffer);
    const lines = carry.split('\n');
    carry = lines.pop() ?? '';
    if (Buffer.byteLength(carry) > MAX_PLAYLIST_LINE_BYTES) {
      throw new Error(`a playlist line is longer than ${MAX_PLAYLIST_LINE_BYTES} bytes`);
    }
    if (lines.length) yield `${lines.map((l) => rewriteLine(l, target)).join('\n')}\n`;
  }
  carry += decoder.end();
  if (carry !== '') yield rewriteLine(carry, target);
}
