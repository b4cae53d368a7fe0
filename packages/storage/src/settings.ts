import { resolve } from 'node:path';
import { ConfigError, defineSettings, onOff } from '@nself-tv/service/settings';
import { z } from 'zod';
import { DEFAULT_HLS_BUCKET, DEFAULT_HLS_PREFIX, hlsLayout } from './hls-layout.js';
import { bucketProblem, prefixProblem } from './location-rules.js';

/** How to reach an S3-compatible store: what `STORAGE=s3` reads, and the connection half of `createS3Storage`'s options. */
export interface S3Connection {
  /** An S3-compatible endpoint (MinIO, Garage…); unset for AWS. */
  endpoint?: string;
  /** @default 'us-east-1' */
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `bucket` in the path rather than the host name, as MinIO expects. @default true when `endpoint` is set */
  forcePathStyle?: boolean;
}

/**
 * Which media store the settings name, as plain values: nothing is opened while settings are
 * read. {@link openStorage} opens it (and loads the S3 SDK only for `s3`).
 */
export type StorageConfig =
  | { readonly kind: 'fs'; readonly mediaRoot: string }
  | { readonly kind: 's3'; readonly mediaRoot: string; readonly s3: S3Connection };

// The value may carry credentials (user:password@host): the message never repeats it.
const ENDPOINT = /^https?:\/\/[^/\s@]+\/?$/;

/**
 * The media store's variables. `MEDIA_ROOT` is also what server paths are redacted from, so it
 * is read with `STORAGE=s3` too.
 */
export const storageSettings = defineSettings(
  'Media store (all three apps)',
  {
    MEDIA_ROOT: z
      .string()
      .default('./media')
      .meta({ description: 'Filesystem media store: objects are `<MEDIA_ROOT>/<bucket>/<key>`.' }),
    STORAGE: z
      .enum(['fs', 's3'], { error: 'expected fs or s3' })
      .default('fs')
      .meta({ description: '`fs`: files under `MEDIA_ROOT`; `s3`: an S3-compatible object store (MinIO, AWS S3…).' }),
    S3_ENDPOINT: z
      .string()
      .regex(
        ENDPOINT,
        'expected http(s)://host[:port], with the keys in S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, not in the URL',
      )
      .optional()
      .meta({ description: '`http(s)://host[:port]` of an S3-compatible server.', shown: 'unset (AWS)' }),
    S3_REGION: z.string().default('us-east-1').meta({ description: 'Region.' }),
    S3_ACCESS_KEY_ID: z
      .string()
      .optional()
      .meta({ description: "Both keys, or neither for the AWS SDK's own credential chain." }),
    S3_SECRET_ACCESS_KEY: z.string().optional().meta({ description: 'The secret of `S3_ACCESS_KEY_ID`.' }),
    S3_FORCE_PATH_STYLE: onOff.optional().meta({
      description: 'Bucket in the path (MinIO), not in the host name (on or off).',
      shown: '`true` with an endpoint',
    }),
  },
  (v): StorageConfig => {
    const mediaRoot = resolve(v.MEDIA_ROOT);
    if (v.STORAGE === 'fs') return { kind: 'fs', mediaRoot };
    const id = v.S3_ACCESS_KEY_ID;
    const secret = v.S3_SECRET_ACCESS_KEY;
    if (Boolean(id) !== Boolean(secret)) {
      const missing = id ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID';
      throw new ConfigError([
        { variable: missing, message: 'set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither' },
      ]);
    }
    return {
      kind: 's3',
      mediaRoot,
      s3: {
        region: v.S3_REGION,
        ...(v.S3_ENDPOINT ? { endpoint: v.S3_ENDPOINT } : {}),
        ...(id && secret ? { accessKeyId: id, secretAccessKey: secret } : {}),
        ...(v.S3_FORCE_PATH_STYLE !== undefined ? { forcePathStyle: v.S3_FORCE_PATH_STYLE } : {}),
      },
    };
  },
);

const bucket = z.string().superRefine((value, ctx) => {
  const problem = bucketProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const template = z.string().superRefine((value, ctx) => {
  if (value.split('{mediaId}').length !== 2 || !value.endsWith('/')) {
    ctx.addIssue({ code: 'custom', message: "must contain {mediaId} once and end with '/'" });
    return;
  }
  const problem = prefixProblem(value.replace('{mediaId}', 'x'));
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Where a media item's HLS lives: the one layout the ingest writes and the gateway serves. */
export const hlsLayoutSettings = defineSettings(
  'HLS layout (the ingest and the gateway)',
  {
    HLS_BUCKET: bucket.default(DEFAULT_HLS_BUCKET).meta({ description: "The bucket of every media item's HLS." }),
    HLS_PREFIX: template.default(DEFAULT_HLS_PREFIX).meta({
      description: 'Its folder; an ingest without `output` writes there and the gateway serves from there.',
    }),
  },
  (v) => hlsLayout(v.HLS_BUCKET, v.HLS_PREFIX),
);
