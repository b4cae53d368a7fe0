import { partProcessor } from '@nself-tv/queues';
import { runWorkerApp } from '@nself-tv/worker-http';
import { subtitles } from './subtitles.js';
import { publishGrowing, runTranscodePart, transcode, transcodePart } from './transcode.js';
import { trickplay } from './trickplay.js';

await runWorkerApp({
  name: 'video-processor',
  defaultPort: 5005,
  ingestRoutes: true,
  routes: { transcode: 'video:transcode', trickplay: 'video:trickplay', subtitle: 'video:subtitle' },
  processors: (storage, limits) => ({
    'video:transcode': (payload, job) =>
      transcode(payload, job, storage, limits, {
        chunkSeconds: limits.transcodeChunkSeconds,
        crf: limits.transcodeCrf,
        copy: limits.transcodeCopy,
        audio: limits.audio,
      }),
    'video:trickplay': (payload, job) => trickplay(payload, job, storage, limits),
    'video:subtitle': (payload, job) => subtitles(payload, job, storage, { ocr: limits.subtitleOcr }),
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
});
