import { run, tools } from '@nself-tv/media-tools';

/**
 * Plays an HLS master to its end as a player built on ffmpeg does (mpv, Kodi): every variant and
 * rendition, decoded. Resolves with what ffmpeg said on stderr: empty when it all played.
 */
export async function playToEnd(masterPath: string): Promise<string> {
  let said = '';
  await run(tools.ffmpeg, ['-v', 'error', '-nostdin', '-i', masterPath, '-map', '0', '-f', 'null', '-'], {
    onStderr: (t) => {
      said += t;
    },
  });
  return said;
}
