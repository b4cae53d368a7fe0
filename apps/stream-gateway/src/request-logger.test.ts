import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RequestLogger } from './request-logger.js';

function capture(level = 'info') {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  return { logger: pino({ level }, stream), lines };
}
const flushed = () => new Promise((r) => setImmediate(r));

describe('RequestLogger', () => {
  it('writes what pino’s child would: the bindings on every line, levels honoured', async () => {
    const { logger, lines } = capture();
    const log = RequestLogger.factory(logger, { reqId: 'r-1' }, {});
    log.debug('not written at info');
    log.info({ status: 200 }, 'request completed');
    log.error({ err: new Error('boom') }, 'request failed');
    log.warn('formatted %s', 'value');
    await flushed();
    expect(lines.map((l) => [l.level, l.msg, l.reqId])).toEqual([
      [30, 'request completed', 'r-1'],
      [50, 'request failed', 'r-1'],
      [40, 'formatted value', 'r-1'],
    ]);
    expect(lines[0]).toMatchObject({ status: 200 });
    expect(lines[1]).toMatchObject({ err: { message: 'boom' } });
    expect(log.bindings()).toEqual({ reqId: 'r-1' });
  });

  it('follows the parent’s level until its own is set, and makes children that keep its bindings', async () => {
    const { logger, lines } = capture();
    const log = RequestLogger.factory(logger, { reqId: 'r-2' }, {});
    expect(log.level).toBe('info');
    expect(log.isLevelEnabled('debug')).toBe(false);
    logger.level = 'debug';
    expect(log.isLevelEnabled('debug')).toBe(true);
    log.level = 'error';
    expect(log.level).toBe('error');
    expect(logger.level).toBe('debug'); // the request's own level, not the server's
    log.info('dropped');
    log.child({ step: 'probe' }).error('child line');
    await flushed();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'child line', reqId: 'r-2', step: 'probe' });
  });
});
