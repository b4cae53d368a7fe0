import { readFileSync } from 'node:fs';
import { QUEUE_NAMES } from '@nself-tv/redis-keys';
import { describe, expect, it } from 'vitest';
import { PayloadError } from './errors.js';
import {
  fileStem,
  ingestRequestJsonSchema,
  ingestStateJsonSchema,
  payloadJsonSchema,
  resultJsonSchema,
} from './schemas/json-schema.js';
import { parsePayload, parseResult } from './schemas/registry.js';
import { optimizeJob, transcodeJob } from './test-helpers.js';

const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadError);
    expect((error as PayloadError).code).toBe('INVALID_PAYLOAD');
    return (error as PayloadError).field;
  }
  throw new Error('expected a PayloadError');
};

describe('payload schemas', () => {
  it('accepts the documented shapes and fills defaults', () => {
    expect(parsePayload('video:transcode', transcodeJob())).toEqual(transcodeJob());
    expect(parsePayload('video:trickplay', transcodeJob()).intervalSeconds).toBe(5);
    expect(parsePayload('image:poster', transcodeJob())).toMatchObject({
      widths: [100, 400, 1200],
      formats: ['webp'],
      quality: 85,
    });
    expect(parsePayload('image:optimize', optimizeJob())).toMatchObject({ format: 'webp', quality: 85, force: false });
    expect(
      parsePayload('image:sprite', {
        mediaId: 'm',
        familyId: 'f',
        output: { bucket: 'media', prefix: '' },
        video: { bucket: 'media', key: 'a.mkv' },
      }),
    ).toMatchObject({ columns: 10, rows: 10, thumbWidth: 320, thumbHeight: 180, intervalSeconds: 5 });
    expect(
      parsePayload('video:subtitle', {
        ...transcodeJob(),
        sidecars: [{ bucket: 'media', key: 'subs/a.srt', language: 'pt-BR' }],
      }).sidecars,
    ).toHaveLength(1);
  });

  it.each([
    ['missing mediaId', { ...transcodeJob(), mediaId: undefined }, 'mediaId'],
    ['id with a colon', { ...transcodeJob(), familyId: 'a:b' }, 'familyId'],
    ['a URL instead of a location', { ...transcodeJob(), source: 'https://x/y.mkv' }, 'source'],
    ['path traversal', { ...transcodeJob(), source: { bucket: 'media', key: '../etc/passwd' } }, 'source.key'],
    ['absolute key', { ...transcodeJob(), source: { bucket: 'media', key: '/etc/passwd' } }, 'source.key'],
    ['bad bucket', { ...transcodeJob(), output: { bucket: 'Media!', prefix: '' } }, 'output.bucket'],
    ['unknown rendition', { ...transcodeJob(), renditions: ['4k'] }, 'renditions[0]'],
    // Keys the store would refuse are refused at the door, by the same rule.
    ['doubled slash in a prefix', { ...transcodeJob(), output: { bucket: 'media', prefix: 'x//y/' } }, 'output.prefix'],
    [
      'temporary-file prefix',
      { ...transcodeJob(), output: { bucket: 'media', prefix: '.partial-x/' } },
      'output.prefix',
    ],
    [
      '300-byte segment',
      { ...transcodeJob(), source: { bucket: 'media', key: `u/${'a'.repeat(300)}.mp4` } },
      'source.key',
    ],
    ['doubled slash in a key', { ...transcodeJob(), source: { bucket: 'media', key: 'a//v.mp4' } }, 'source.key'],
    ['unknown nested field', { ...transcodeJob(), source: { bucket: 'media', key: 'a.mkv', url: 'x' } }, 'source.url'],
    ['snake_case field', { ...transcodeJob(), media_id: 'm1' }, 'media_id'],
  ])('rejects %s naming the field', (_label, payload, path) => {
    expect(field(() => parsePayload('video:transcode', payload))).toBe(path);
  });

  it('bounds every number: thumbnail intervals, sheet sizes and timestamps', () => {
    const sprite = {
      mediaId: 'm',
      familyId: 'f',
      output: { bucket: 'media', prefix: 's/' },
      video: { bucket: 'media', key: 'v.mkv' },
    };
    for (const intervalSeconds of [0.001, 1e-7, 0, -1, 601]) {
      expect(field(() => parsePayload('video:trickplay', { ...transcodeJob(), intervalSeconds }))).toBe(
        'intervalSeconds',
      );
      expect(field(() => parsePayload('image:sprite', { ...sprite, intervalSeconds }))).toBe('intervalSeconds');
    }
    expect(parsePayload('video:trickplay', { ...transcodeJob(), intervalSeconds: 0.5 }).intervalSeconds).toBe(0.5);
    // 50 x 1920 by 50 x 1080 would be a 96000x54000 sheet held raw in memory.
    expect(field(() => parsePayload('image:sprite', { ...sprite, columns: 50, rows: 50, thumbWidth: 1920 }))).toBe(
      'columns',
    );
    expect(parsePayload('image:sprite', { ...sprite, columns: 12, rows: 12, thumbWidth: 320 }).columns).toBe(12);
    const images = [{ bucket: 'media', key: 'a.jpg', timestamp: 1e12 }];
    expect(field(() => parsePayload('image:sprite', { ...sprite, video: undefined, images }))).toBe(
      'images[0].timestamp',
    );
  });

  it('requires exactly one of video and images for sprites', () => {
    const base = { mediaId: 'm', familyId: 'f', output: { bucket: 'media', prefix: 's/' } };
    expect(field(() => parsePayload('image:sprite', base))).toBe('video');
    expect(
      field(() =>
        parsePayload('image:sprite', {
          ...base,
          video: { bucket: 'media', key: 'v.mkv' },
          images: [{ bucket: 'media', key: 'a.jpg', timestamp: 0 }],
        }),
      ),
    ).toBe('video');
  });

  it('checks results too', () => {
    expect(() => parseResult('image:optimize', { key: 'k' })).toThrow(/invalid image:optimize result: format/);
  });
});

describe('JSON Schema files', () => {
  it.each(QUEUE_NAMES)('%s: shipped files match the zod schemas', (queue) => {
    const read = (kind: string) =>
      JSON.parse(readFileSync(new URL(`../schemas/${fileStem(queue)}.${kind}.json`, import.meta.url), 'utf8'));
    expect(read('payload')).toEqual(payloadJsonSchema(queue));
    expect(read('result')).toEqual(resultJsonSchema(queue));
  });

  it('ship the ingest request and state', () => {
    const read = (name: string) =>
      JSON.parse(readFileSync(new URL(`../schemas/ingest.${name}.json`, import.meta.url), 'utf8'));
    expect(read('request')).toEqual(ingestRequestJsonSchema());
    expect(read('state')).toEqual(ingestStateJsonSchema());
    expect(ingestRequestJsonSchema().required).toEqual(['mediaId', 'familyId', 'source']);
  });

  it('describe payloads other languages can check', () => {
    const schema = payloadJsonSchema('video:transcode') as { required: string[]; additionalProperties: boolean };
    expect(schema.required).toEqual(['mediaId', 'familyId', 'source', 'output']);
    expect(schema.additionalProperties).toBe(false);
    expect(payloadJsonSchema('image:sprite').oneOf).toEqual([{ required: ['video'] }, { required: ['images'] }]);
  });
});
