import { describe, expect, it } from 'vitest';
import { isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('writes what Date#toISOString writes, in and across seconds, years and eras', () => {
    const now = Date.now();
    const times = [
      now,
      now + 1,
      now + 999,
      0,
      -1,
      -999,
      -1000,
      -1001,
      999.9,
      -0.5,
      1_000.7,
      253_402_300_799_999, // 9999-12-31T23:59:59.999Z
      253_402_300_800_000, // +010000-01-01T00:00:00.000Z
      -62_198_755_200_001, // before year 0: -000001-…
      8.64e15,
      -8.64e15,
    ];
    for (let i = 0; i < 2000; i++) times.push(Math.floor((Math.random() - 0.5) * 2 * 8.64e15));
    for (let i = 0; i < 2000; i++) times.push(now + Math.floor(Math.random() * 5000)); // mostly the cached second
    for (const t of times) expect(isoTime(t), String(t)).toBe(new Date(t).toISOString());
  });

  it('throws where Date#toISOString throws, even within a cached second', () => {
    expect(isoTime(8.64e15)).toBe(new Date(8.64e15).toISOString());
    for (const t of [8.64e15 + 1, -8.64e15 - 1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => new Date(t).toISOString()).toThrow(RangeError);
      expect(() => isoTime(t)).toThrow(RangeError);
    }
  });
});
