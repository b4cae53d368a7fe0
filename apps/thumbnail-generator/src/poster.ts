import type { JobContext, JobResult, Payload } from '@nself-tv/queues';
import type { MediaStorage } from '@nself-tv/storage';
import { keyUnder } from '@nself-tv/storage';
import { encodeAs, extensionOf } from './encode.js';
import { type ImageLimits, loadImage, render } from './image-input.js';

type PosterOutput = JobResult<'image:poster'>['outputs'][number];

/**
 * The `image:poster` processor: one file per requested width and format,
 * `poster-<w>w.<ext>`, EXIF orientation applied and metadata stripped. A width
 * above the source's keeps the source's width (never enlarged) under the
 * requested name, so clients can always ask for `poster-1200w.webp`; equal
 * renditions are encoded once.
 */
export async function poster(
  payload: Payload<'image:poster'>,
  job: Pick<JobContext, 'progress' | 'signal'>,
  storage: MediaStorage,
  limits: ImageLimits,
): Promise<JobResult<'image:poster'>> {
  const source = await loadImage(storage, payload.source, limits);
  const what = `${payload.source.bucket}/${payload.source.key}`;
  const total = payload.widths.length * payload.formats.length;
  const encoded = new Map<string, { data: Buffer; width: number; height: number }>();
  const outputs: PosterOutput[] = [];
  for (const format of payload.formats) {
    for (const width of payload.widths) {
      job.signal.throwIfAborted();
      const target = Math.min(width, source.width);
      const id = `${format}:${target}`;
      let rendition = encoded.get(id);
      if (!rendition) {
        const { data, info } = await render(
          what,
          encodeAs(source.pipeline().resize({ width: target, withoutEnlargement: true }), format, payload.quality),
        );
        rendition = { data, width: info.width, height: info.height };
        encoded.set(id, rendition);
      }
      const key = keyUnder(payload.output.prefix, `poster-${width}w.${extensionOf(format)}`);
      await storage.write({ bucket: payload.output.bucket, key }, rendition.data);
      outputs.push({ key, width: rendition.width, height: rendition.height, format, bytes: rendition.data.length });
      await job.progress(Math.round((outputs.length / total) * 100));
    }
  }
  return { outputs };
}
