import { describe, expect, it } from 'vitest';
import { MAX_STDERR_LINE, progressOf, run, runLog } from './ffmpeg.js';

// A real process that writes what a tool would: a long line and many short ones on stderr.
const say = (script: string) => ['-e', script];

describe('reading a tool’s output as data', () => {
  it('hands stderr over line by line, each cut at the bound, the last one without its newline too', async () => {
    const lines: string[] = [];
    await run(process.execPath, say(`process.stderr.write('a\\n' + 'x'.repeat(${MAX_STDERR_LINE * 3}) + '\\nlast')`), {
      onStderrLine: (line) => lines.push(line),
    });
    expect(lines.map((l) => l.length)).toEqual([1, MAX_STDERR_LINE, 4]);
    expect(lines[2]).toBe('last');
  });

  it('keeps a bounded log from the end asked', async () => {
    const script = `for (let i = 0; i < 5000; i++) process.stderr.write('line ' + i + '\\n')`;
    const tail = await runLog(process.execPath, say(script), { maxChars: 100, keep: 'tail' });
    const head = await runLog(process.execPath, say(script), { maxChars: 100, keep: 'head' });
    expect(tail.length).toBeLessThanOrEqual(100);
    expect(tail.endsWith('line 4999\n')).toBe(true);
    expect(head.startsWith('line 0\nline 1\n')).toBe(true);
    expect(head.length).toBeLessThanOrEqual(100);
  });

  it('maps a progress block to the share done, by frames or by time, bounded', () => {
    expect(progressOf(new Map([['frame', '50']]), { frames: 200 })).toBe(0.25);
    expect(progressOf(new Map([['out_time_us', '3000000']]), { seconds: 6 })).toBe(0.5);
    expect(progressOf(new Map([['out_time_us', 'N/A']]), { seconds: 6 })).toBe(0);
    expect(progressOf(new Map([['frame', '999']]), { frames: 10 })).toBe(1);
  });
});
