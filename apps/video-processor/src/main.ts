import { createCache } from '@nself-tv/cache';
import { partProcessor } from '@nself-tv/queues';
import { runWorkerApp } from '@nself-tv/worker-http';
import { publishGrowing } from './growing.js';
import { videoSettings } from './settings.js';
import { subtitles } from './subtitles.js';
import { transcode } from './transcode.js';
import { runTranscodePart } from './transcode-part.js';
import { transcodePart } from './transcode-plan.js';
import { trickplay } from './trickplay.js';

await runWorkerApp({
  name: 'video-processor',
  defaultPort: 5005,
  ingestRoutes: true,
  routes: { transcode: 'video:transcode', trickplay: 'video:trickplay', subtitle: 'video:subtitle' },
  settings: videoSettings,
  processors: (storage, limits, settings) => ({
    'video:transcode': (payload, job) => transcode(payload, job, storage, limits, settings.transcode),
    'video:trickplay': (payload, job) => trickplay(payload, job, storage, limits),
    'video:subtitle': (payload, job) =>
      subtitles(payload, job, storage, { ocr: settings.subtitleOcr, charset: settings.subtitleCharset }),
  }),
  // A film's chunks and its audio, on every video-processor that shares the Redis and the store.
  parts: (storage) => ({
    'video:transcode': partProcessor({
      parse: (data) => transcodePart.parse(data),
      run: (part, job) => runTranscodePart(part, job, storage),
      completed: async (part, _result, parent) => ({
        playable: await publishGrowing(parent, storage, part.output),
      }),
    }),
  }),
  // A finished ingest drops cache:recent, so the new title shows in the catalogue at once.
  ingestCompletion: (connection) => {
    const cache = createCache({ connection });
    return { onCompleted: () => cache.invalidateRecent(), close: () => cache.close() };
  },
});
