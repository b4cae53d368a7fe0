import { readFileSync } from 'node:fs';
import { QUEUE_NAMES } from '@nself-tv/redis-keys';
import { describe, expect, it } from 'vitest';
import { PayloadError } from './errors.js';
import { fileStem, payloadJsonSchema, resultJsonSchema } from './schemas/json-schema.js';
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
    ['snake_case field', { ...transcodeJob(), media_id: 'm1' }, ''],
  ])('rejects %s naming the field', (_label, payload, path) => {
    expect(field(() => parsePayload('video:transcode', payload))).toBe(path);
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

  it('describe payloads other languages can check', () => {
    const schema = payloadJsonSchema('video:transcode') as { required: string[]; additionalProperties: boolean };
    expect(schema.required).toEqual(['mediaId', 'familyId', 'source', 'output']);
    expect(schema.additionalProperties).toBe(false);
    expect(payloadJsonSchema('image:sprite').oneOf).toEqual([{ required: ['video'] }, { required: ['images'] }]);
  });
});
