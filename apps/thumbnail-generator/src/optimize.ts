import type { JobContext, JobResult, Payload } from '@nself-tv/queues';
import type { MediaStorage } from '@nself-tv/storage';
import { encodeAs } from './encode.js';
import { type ImageLimits, loadImage, render } from './image-input.js';

const savings = (original: number, optimized: number) =>
  original === 0 ? 0 : Math.round((1 - optimized / original) * 1000) / 10;

/**
 * The `image:optimize` processor: re-encodes the source in the requested format
 * (EXIF orientation applied, metadata stripped). When that comes out larger
 * than the source and the payload does not `force` the format, the source
 * bytes are written unchanged and `keptOriginal` is true.
 */
export async function optimize(
  payload: Payload<'image:optimize'>,
  job: Pick<JobContext, 'progress' | 'signal'>,
  storage: MediaStorage,
  limits: ImageLimits,
): Promise<JobResult<'image:optimize'>> {
  const source = await loadImage(storage, payload.source, limits);
  const what = `${payload.source.bucket}/${payload.source.key}`;
  const { data } = await render(what, encodeAs(source.pipeline(), payload.format, payload.quality));
  job.signal.throwIfAborted();
  await job.progress(80);
  const originalBytes = source.bytes.length;
  const keepOriginal = data.length >= originalBytes && !payload.force;
  const written = keepOriginal ? source.bytes : data;
  await storage.write(payload.output, written);
  await job.progress(100);
  return {
    key: payload.output.key,
    format: keepOriginal ? source.format : payload.format,
    originalBytes,
    optimizedBytes: written.length,
    savingsPercent: savings(originalBytes, written.length),
    keptOriginal: keepOriginal,
  };
}
