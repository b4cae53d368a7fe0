import { runWorkerApp } from '@nself-tv/worker-http';
import sharp from 'sharp';
import { z } from 'zod';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image-input.js';
import { optimize } from './optimize.js';
import { poster } from './poster.js';
import { sprite } from './sprite.js';

const maxPixels = z.coerce
  .number()
  .int()
  .positive()
  .default(DEFAULT_IMAGE_LIMITS.maxInputPixels)
  .safeParse(process.env.MAX_INPUT_PIXELS || undefined);
if (!maxPixels.success) {
  process.stderr.write('thumbnail-generator: refusing to start: MAX_INPUT_PIXELS: expected a positive integer\n');
  process.exit(1);
}
const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, maxInputPixels: maxPixels.data };
// Every source is a different image: libvips' operation cache would only hold memory.
sharp.cache(false);

await runWorkerApp({
  name: 'thumbnail-generator',
  defaultPort: 5006,
  routes: { poster: 'image:poster', sprite: 'image:sprite', optimize: 'image:optimize' },
  processors: (storage, workerLimits) => ({
    'image:poster': (payload, job) => poster(payload, job, storage, limits),
    'image:sprite': (payload, job) => sprite(payload, job, storage, { ...limits, ...workerLimits }),
    'image:optimize': (payload, job) => optimize(payload, job, storage, limits),
  }),
});
