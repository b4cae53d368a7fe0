import { ConfigError } from '@nself-tv/service/settings';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_JOB_OPTIONS,
  jobOptionsFor,
  QUEUE_CATALOG,
  queueEnvSettings,
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
    const { queues, jobOverrides } = queueEnvSettings('video-processor').read({
      QUEUE_VIDEO_TRANSCODE_CONCURRENCY: '1',
      QUEUE_VIDEO_TRANSCODE_ATTEMPTS: '5',
      QUEUE_VIDEO_TRANSCODE_BACKOFF_DELAY_MS: '500',
      QUEUE_VIDEO_TRANSCODE_TIMEOUT_MS: '60000',
      QUEUE_IMAGE_POSTER_ATTEMPTS: '9',
    });
    expect(queues.map((q) => q.queue)).toEqual(['video:transcode', 'video:trickplay', 'video:subtitle']);
    expect(queues[0]).toMatchObject({
      concurrency: 1,
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
      timeoutMs: 60000,
    });
    expect(queues[1]).toEqual(QUEUE_CATALOG['video:trickplay']);
    // The producer gets every queue's job options, those the app does not consume too.
    expect(jobOverrides['image:poster']).toEqual({ attempts: 9, backoff: QUEUE_CATALOG['image:poster'].backoff });
  });

  it('names every bad variable of every queue at once', () => {
    try {
      queueEnvSettings('thumbnail-generator').read({
        QUEUE_IMAGE_SPRITE_CONCURRENCY: 'two',
        QUEUE_IMAGE_SPRITE_BACKOFF_TYPE: 'linear',
        QUEUE_IMAGE_POSTER_CONCURRENCY: '0',
        QUEUE_VIDEO_TRANSCODE_TIMEOUT_MS: '5',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
        'QUEUE_IMAGE_POSTER_CONCURRENCY',
        'QUEUE_IMAGE_SPRITE_BACKOFF_TYPE',
        'QUEUE_IMAGE_SPRITE_CONCURRENCY',
        'QUEUE_VIDEO_TRANSCODE_TIMEOUT_MS',
      ]);
    }
  });
});
