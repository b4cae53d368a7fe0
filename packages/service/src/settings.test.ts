import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  defineSettings,
  flag,
  parseSettings,
  serviceSettings,
  settingsTable,
  wholeNumber,
} from './settings.js';

const jobs = defineSettings('Jobs', {
  JOB_LIMIT: wholeNumber(1, 10).default(3).meta({ description: 'Jobs at once.' }),
  JOB_MODE: z.enum(['fast', 'slow']).default('fast').meta({ description: 'How.' }),
  JOB_COPY: flag(true).meta({ description: 'Copy when it can.' }),
});
const store = defineSettings(
  'Store',
  { STORE_URL: z.string({ error: 'is required' }).meta({ description: 'Where.', shown: 'required' }) },
  (v) => v.STORE_URL,
);

describe('settings', () => {
  it('parses every group once and freezes the result', () => {
    const values = parseSettings(
      { http: serviceSettings(5005), jobs, store },
      { JOB_LIMIT: '7', STORE_URL: 's3://x', JOB_COPY: '' },
    );
    expect(values).toEqual({
      http: { PORT: 5005, HOST: '0.0.0.0', LOG_LEVEL: 'info' },
      jobs: { JOB_LIMIT: 7, JOB_MODE: 'fast', JOB_COPY: true },
      store: 's3://x',
    });
    expect(Object.isFrozen(values)).toBe(true);
  });

  it('names every bad variable of every group in one error', () => {
    let error: unknown;
    try {
      parseSettings(
        { http: serviceSettings(5005), jobs, store },
        { PORT: 'eighty', JOB_LIMIT: '11', JOB_MODE: 'warp', JOB_COPY: 'maybe' },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message, code } = error as ConfigError;
    expect(code).toBe('INVALID_CONFIG');
    expect(problems.map((p) => p.variable)).toEqual(['PORT', 'JOB_LIMIT', 'JOB_MODE', 'JOB_COPY', 'STORE_URL']);
    expect(message).toMatch(
      /^PORT: expected a whole number from 0 to 65535; JOB_LIMIT: expected at most 10; JOB_MODE: .*; JOB_COPY: expected on or off \(true or false\); STORE_URL: is required$/,
    );
  });

  it("rethrows what is not a ConfigError: a reader's bug is not a bad variable, and no message is parsed", () => {
    const buggy = defineSettings('Buggy', {}, () => {
      throw new TypeError('STORE_URL: looks like a variable, is a bug');
    });
    expect(() => parseSettings({ jobs, buggy }, {})).toThrow(TypeError);
  });

  it('has one grammar for on and off', () => {
    const read = (v: string) => jobs.read({ JOB_COPY: v }).JOB_COPY;
    expect(['on', 'true', '1', 'yes'].map(read)).toEqual([true, true, true, true]);
    expect(['off', 'false', '0', 'no'].map(read)).toEqual([false, false, false, false]);
  });

  it('renders the README table from the schemas', () => {
    expect(settingsTable([jobs, store])).toBe(
      [
        '| Variable | Default | Meaning |',
        '| --- | --- | --- |',
        '| `JOB_LIMIT` | `3` | Jobs at once. |',
        '| `JOB_MODE` | `fast` | How. |',
        '| `JOB_COPY` | `on` | Copy when it can. |',
        '| `STORE_URL` | required | Where. |',
      ].join('\n'),
    );
  });
});
