import { redisSettings } from '@nself-tv/redis-keys';
import { errorTable, type Settings, serviceSettings, settingsTable } from '@nself-tv/service';
import { hlsLayoutSettings, storageSettings } from '@nself-tv/storage';
import { gatewaySettings } from '@nself-tv/stream-gateway';
import { imageSettings } from '@nself-tv/thumbnail-generator';
import { videoSettings } from '@nself-tv/video-processor';
import { workerAppSettings } from '@nself-tv/worker-http';

const section = (groups: readonly Settings<unknown>[]) =>
  groups.map((g) => `**${g.title}**\n\n${settingsTable([g])}`).join('\n\n');

const worker = workerAppSettings('video-processor', 5005);

/**
 * The README's generated tables, by marker: every environment variable from
 * the schemas the packages and apps export, and the HTTP error registry. The
 * README test fails when the committed copy differs; `pnpm readme:tables`
 * rewrites them.
 */
export function readmeTables(): Record<string, string> {
  return {
    'env-shared': section([redisSettings('queues'), storageSettings, hlsLayoutSettings]),
    'env-workers': section([
      { ...serviceSettings(5005, '`5005` / `5006`'), title: 'Worker apps (video-processor, thumbnail-generator)' },
      { ...worker.worker, title: 'Worker runner' },
      worker.media,
      worker.queues,
      videoSettings,
      imageSettings,
    ]),
    'env-gateway': section([
      { ...serviceSettings(5003), title: 'stream-gateway' },
      { ...gatewaySettings, title: 'stream-gateway: callers, playback, limits' },
    ]),
    errors: errorTable(),
  };
}
