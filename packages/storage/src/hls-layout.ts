import { StorageError } from './errors.js';
import { bucketProblem, prefixProblem } from './location-rules.js';

/**
 * Where a media item's HLS (master, renditions, subtitles, trickplay) lives:
 * one rule, read by the ingest (where to write) and the gateway (what to
 * serve), so the two never disagree.
 */
export interface HlsLayout {
  readonly bucket: string;
  /** The prefix template, with `{mediaId}`. */
  readonly template: string;
  /** The output prefix of `mediaId` (`library/m1/`). @throws StorageError `INVALID_LOCATION` */
  prefixFor(mediaId: string): string;
}

/** Default bucket of HLS outputs (`HLS_BUCKET`). */
export const DEFAULT_HLS_BUCKET = 'media';
/** Default prefix template (`HLS_PREFIX`). */
export const DEFAULT_HLS_PREFIX = 'library/{mediaId}/';

/**
 * The layout for a bucket and a prefix template that contains `{mediaId}`
 * exactly once and ends with `/`.
 * @throws StorageError `INVALID_LOCATION` naming what is wrong.
 */
export function hlsLayout(bucket = DEFAULT_HLS_BUCKET, template = DEFAULT_HLS_PREFIX): HlsLayout {
  const badBucket = bucketProblem(bucket);
  if (badBucket) throw new StorageError('INVALID_LOCATION', `HLS_BUCKET '${bucket}': ${badBucket}`);
  if (template.split('{mediaId}').length !== 2 || !template.endsWith('/')) {
    throw new StorageError(
      'INVALID_LOCATION',
      `HLS_PREFIX '${template}': must contain {mediaId} once and end with '/'`,
    );
  }
  const badTemplate = prefixProblem(template.replace('{mediaId}', 'x'));
  if (badTemplate) throw new StorageError('INVALID_LOCATION', `HLS_PREFIX '${template}': ${badTemplate}`);
  return {
    bucket,
    template,
    prefixFor(mediaId) {
      const prefix = template.replace('{mediaId}', mediaId);
      const problem = prefixProblem(prefix);
      if (problem)
        throw new StorageError('INVALID_LOCATION', `media id '${mediaId}' makes prefix '${prefix}': ${problem}`);
      return prefix;
    },
  };
}
