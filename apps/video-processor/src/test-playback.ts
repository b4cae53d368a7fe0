import { runLog, tools } from '@nself-tv/media-tools';

/**
 * Plays an HLS master to its end as a player built on ffmpeg does (mpv, Kodi): every variant and
 * rendition, decoded. Resolves with what ffmpeg said on stderr: empty when it all played.
 */
export async function playToEnd(masterPath: string): Promise<string> {
  const said = await runLog(
    tools.ffmpeg,
    ['-v', 'error', '-nostdin', '-i', masterPath, '-map', '0', '-f', 'null', '-'],
    { maxChars: 1_000_000, keep: 'tail' },
  );
  return said;
}
