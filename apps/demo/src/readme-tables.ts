import { redisSettings } from '@nself-tv/redis-keys';
import { errorTable } from '@nself-tv/service';
import { type Settings, serviceSettings, settingsTable } from '@nself-tv/service/settings';
import { hlsLayoutSettings, storageSettings } from '@nself-tv/storage';
import { gatewaySettings } from '@nself-tv/stream-gateway';
import { imageSettings } from '@nself-tv/thumbnail-generator';
import { videoSettings } from '@nself-tv/video-processor';
import { workerAppSettings } from '@nself-tv/worker-http';

const section = (groups: readonly Settings<unknown>[]) =>
  groups.map((g) => `**${g.title}**\n\n${settingsTable([g])}`).join('\n\n');

const worker = workerAppSettings('video-processor', 5005);

/** One generated table: its marker and the READMEs (from the repository root) that hold it. */
export interface ReadmeTable {
  marker: string;
  table: string;
  files: string[];
}

/**
 * The READMEs' generated tables: every environment variable from the schemas
 * the packages and apps export, and the HTTP error registry. The README test
 * fails when a committed copy differs; `pnpm readme:tables` rewrites them.
 */
export function readmeTables(): ReadmeTable[] {
  const gateway = [
    { ...serviceSettings(5003), title: 'stream-gateway' },
    { ...gatewaySettings, title: 'stream-gateway: callers, playback, limits' },
  ];
  return [
    {
      marker: 'env-shared',
      table: section([redisSettings('queues'), storageSettings, hlsLayoutSettings]),
      files: ['README.md'],
    },
    {
      marker: 'env-workers',
      table: section([
        { ...serviceSettings(5005, '`5005` / `5006`'), title: 'Worker apps (video-processor, thumbnail-generator)' },
        { ...worker.worker, title: 'Worker runner' },
        worker.media,
        worker.queues,
        videoSettings,
        imageSettings,
      ]),
      files: ['README.md'],
    },
    { marker: 'env-gateway', table: section(gateway), files: ['README.md', 'apps/stream-gateway/README.md'] },
    { marker: 'env-video', table: section([videoSettings]), files: ['apps/video-processor/README.md'] },
    { marker: 'env-image', table: section([imageSettings]), files: ['apps/thumbnail-generator/README.md'] },
    { marker: 'env-redis', table: settingsTable([redisSettings('queues')]), files: ['packages/redis-keys/README.md'] },
    { marker: 'env-queues', table: settingsTable([worker.queues]), files: ['packages/queues/README.md'] },
    {
      marker: 'env-runner',
      table: settingsTable([worker.service, worker.worker, worker.media]),
      files: ['packages/worker-http/README.md'],
    },
    { marker: 'errors', table: errorTable(), files: ['README.md', 'packages/service/README.md'] },
  ];
}
