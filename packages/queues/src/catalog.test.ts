import { describe, expect, it } from 'vitest';
import {
  DEFAULT_JOB_OPTIONS,
  jobOptionsFor,
  QUEUE_CATALOG,
  queueSettingsFromEnv,
  queuesOf,
  resolveQueueSettings,
} from './catalog.js';
import { QueueError } from './errors.js';

describe('catalog', () => {
  it('has the six queues with the spec consumers and concurrency', () => {
    const view = Object.values(QUEUE_CATALOG).map((s) => [s.queue, s.consumer, s.concurrency]);
    expect(view).toEqual([
      ['video:transcode', 'video-processor', 2],
      ['video:trickplay', 'video-processor', 2],
      ['video:subtitle', 'video-processor', 4],
      ['image:poster', 'thumbnail-generator', 4],
      ['image:sprite', 'thumbnail-generator', 2],
      ['image:optimize', 'thumbnail-generator', 4],
    ]);
    expect(queuesOf('video-processor')).toEqual(['video:transcode', 'video:trickplay', 'video:subtitle']);
  });

  it('uses exactly the spec default job options, with failed jobs also capped by count (noeviction)', () => {
    expect(DEFAULT_JOB_OPTIONS).toEqual({
      attempts: 3,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 86400, count: 1000 },
      removeOnFail: { age: 604800, count: 5000 },
    });
    for (const settings of Object.values(QUEUE_CATALOG)) expect(jobOptionsFor(settings)).toEqual(DEFAULT_JOB_OPTIONS);
  });

  it('applies validated overrides', () => {
    const s = resolveQueueSettings('image:poster', { concurrency: 8, backoff: { type: 'fixed', delay: 100 } });
    expect(s).toMatchObject({ concurrency: 8, attempts: 3, backoff: { type: 'fixed', delay: 100 } });
    expect(() => resolveQueueSettings('image:poster', { concurrency: 0 })).toThrow(/concurrency/);
    expect(() => resolveQueueSettings('image:poster', { bogus: 1 } as never)).toThrow(QueueError);
  });

  it('reads overrides from the environment', () => {
    const s = queueSettingsFromEnv('video:transcode', {
      QUEUE_VIDEO_TRANSCODE_CONCURRENCY: '1',
      QUEUE_VIDEO_TRANSCODE_ATTEMPTS: '5',
      QUEUE_VIDEO_TRANSCODE_BACKOFF_DELAY_MS: '500',
      QUEUE_VIDEO_TRANSCODE_TIMEOUT_MS: '60000',
      QUEUE_IMAGE_POSTER_CONCURRENCY: '9',
    });
    expect(s).toMatchObject({
      concurrency: 1,
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
      timeoutMs: 60000,
    });
    expect(queueSettingsFromEnv('video:transcode', {})).toEqual(QUEUE_CATALOG['video:transcode']);
  });

  it.each([
    [{ QUEUE_IMAGE_SPRITE_CONCURRENCY: 'two' }, 'QUEUE_IMAGE_SPRITE_CONCURRENCY'],
    [{ QUEUE_IMAGE_SPRITE_BACKOFF_TYPE: 'linear' }, 'QUEUE_IMAGE_SPRITE_BACKOFF_TYPE'],
    [{ QUEUE_IMAGE_SPRITE_CONCURRENCY: '0' }, 'concurrency'],
  ])('rejects %o naming %s', (env, name) => {
    try {
      queueSettingsFromEnv('image:sprite', env);
      expect.unreachable();
    } catch (error) {
      expect((error as QueueError).code).toBe('INVALID_QUEUE_CONFIG');
      expect((error as Error).message).toContain(name);
    }
  });
});
