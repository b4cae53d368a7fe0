import { MEDIA_ERROR_FINALITY, MediaError } from '@nself-tv/media-tools';
import { isFinalFailure, QUEUE_ERROR_FINALITY, QueueError } from '@nself-tv/queues';
import { STORAGE_ERROR_FINALITY, StorageError } from '@nself-tv/storage';
import { describe, expect, it } from 'vitest';
import { RETRY_POLICY } from './retry-policy.js';

describe('the worker apps’ retry policy', () => {
  it('is every package’s own table, and no code is placed by two packages', () => {
    const tables = [QUEUE_ERROR_FINALITY, STORAGE_ERROR_FINALITY, MEDIA_ERROR_FINALITY].map(Object.keys);
    const all = tables.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(Object.keys(RETRY_POLICY).sort()).toEqual([...all].sort());
  });

  it('decides each package’s errors by their code: final at once, or retried', () => {
    expect(isFinalFailure(new StorageError('NOT_FOUND', 'x'), RETRY_POLICY)).toBe(true);
    expect(isFinalFailure(new StorageError('STORE_UNAVAILABLE', 'x'), RETRY_POLICY)).toBe(false);
    expect(isFinalFailure(new MediaError('NOT_MEDIA', 'x'), RETRY_POLICY)).toBe(true);
    expect(isFinalFailure(new MediaError('TOOL_FAILED', 'x'), RETRY_POLICY)).toBe(false);
    expect(isFinalFailure(new QueueError('JOB_CANCELLED', 'x'), RETRY_POLICY)).toBe(true);
    // A queue worker given no policy knows only its own package's codes: another's are retried.
    expect(isFinalFailure(new MediaError('NOT_MEDIA', 'x'))).toBe(false);
    // Unknown codes, and names inherited from Object, are retried.
    expect(isFinalFailure({ code: 'SOMETHING_ELSE' }, RETRY_POLICY)).toBe(false);
    expect(isFinalFailure({ code: 'toString' }, RETRY_POLICY)).toBe(false);
  });
});
