import { resolve } from 'node:path';
import type { Settings } from '@nself-tv/service';
import { DEFAULT_HLS_BUCKET, DEFAULT_HLS_PREFIX, type HlsLayout, hlsLayoutFromEnv } from './hls-layout.js';
import { storageFromEnv } from './s3-storage.js';
import type { MediaStorage } from './storage.js';

/** What {@link storageSettings} reads: the store, and the filesystem root (also what paths are redacted from). */
export interface StorageValues {
  storage: MediaStorage;
  /** `MEDIA_ROOT`, absolute. */
  mediaRoot: string;
}

/** The media store's variables (`read` opens the store: {@link storageFromEnv}). */
export const storageSettings: Settings<StorageValues> = {
  title: 'Media store (all three apps)',
  variables: [
    {
      name: 'MEDIA_ROOT',
      default: '`./media`',
      meaning: 'Filesystem media store: objects are `<MEDIA_ROOT>/<bucket>/<key>`.',
    },
    {
      name: 'STORAGE',
      default: '`fs`',
      meaning: '`fs`: files under `MEDIA_ROOT`; `s3`: an S3-compatible object store (MinIO, AWS S3…).',
    },
    { name: 'S3_ENDPOINT', default: 'unset (AWS)', meaning: '`http(s)://host[:port]` of an S3-compatible server.' },
    { name: 'S3_REGION', default: '`us-east-1`', meaning: 'Region.' },
    {
      name: 'S3_ACCESS_KEY_ID',
      default: 'unset',
      meaning: "Both keys, or neither for the AWS SDK's own credential chain.",
    },
    { name: 'S3_SECRET_ACCESS_KEY', default: 'unset', meaning: 'The secret of `S3_ACCESS_KEY_ID`.' },
    {
      name: 'S3_FORCE_PATH_STYLE',
      default: '`true` with an endpoint',
      meaning: 'Bucket in the path (MinIO), not in the host name (on or off).',
    },
  ],
  read(env) {
    const mediaRoot = resolve(env.MEDIA_ROOT || './media');
    return { storage: storageFromEnv(env, mediaRoot), mediaRoot };
  },
};

/** Where a media item's HLS lives (`read` is {@link hlsLayoutFromEnv}). */
export const hlsLayoutSettings: Settings<HlsLayout> = {
  title: 'HLS layout (the ingest and the gateway)',
  variables: [
    { name: 'HLS_BUCKET', default: `\`${DEFAULT_HLS_BUCKET}\``, meaning: "The bucket of every media item's HLS." },
    {
      name: 'HLS_PREFIX',
      default: `\`${DEFAULT_HLS_PREFIX}\``,
      meaning: 'Its folder; an ingest without `output` writes there and the gateway serves from there.',
    },
  ],
  read: (env) => hlsLayoutFromEnv(env),
};
