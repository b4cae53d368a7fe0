import { runWorkerApp } from '@nself-tv/worker-http';
import { subtitles } from './subtitles.js';
import { transcode } from './transcode.js';
import { trickplay } from './trickplay.js';

await runWorkerApp({
  name: 'video-processor',
  defaultPort: 5005,
  ingestRoutes: true,
  routes: { transcode: 'video:transcode', trickplay: 'video:trickplay', subtitle: 'video:subtitle' },
  processors: (storage, limits) => ({
    'video:transcode': (payload, job) => transcode(payload, job, storage, limits),
    'video:trickplay': (payload, job) => trickplay(payload, job, storage, limits),
    'video:subtitle': (payload, job) => subtitles(payload, job, storage),
  }),
});
