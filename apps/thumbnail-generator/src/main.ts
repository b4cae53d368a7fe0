import { runWorkerApp } from '@nself-tv/worker-http';
import sharp from 'sharp';
import { optimize } from './optimize.js';
import { poster } from './poster.js';
import { imageSettings } from './settings.js';
import { sprite } from './sprite.js';

// Every source is a different image: libvips' operation cache would only hold memory.
sharp.cache(false);

await runWorkerApp({
  name: 'thumbnail-generator',
  defaultPort: 5006,
  routes: { poster: 'image:poster', sprite: 'image:sprite', optimize: 'image:optimize' },
  settings: imageSettings,
  processors: (storage, workerLimits, limits) => ({
    'image:poster': (payload, job) => poster(payload, job, storage, limits),
    'image:sprite': (payload, job) => sprite(payload, job, storage, { ...limits, ...workerLimits }),
    'image:optimize': (payload, job) => optimize(payload, job, storage, limits),
  }),
});
