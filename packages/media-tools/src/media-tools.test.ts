import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from '@nself-tv/queues';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyUnder, makeSample, probe, run, ToolError, thumbnailVtt, tilePosition, tools, vttTime } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'media-tools-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const running = (pattern: string) => {
  try {
    return execFileSync('pgrep', ['-f', pattern]).toString().trim() !== '';
  } catch {
    return false;
  }
};

describe('run', () => {
  it('fails with the tail of stderr', async () => {
    const error = await run(tools.ffmpeg, ['-hide_banner', '-i', join(dir, 'missing.mkv')]).catch((e) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect(error.exitCode).not.toBe(0);
    expect(error.message).toContain('missing.mkv');
  });

  it('kills the tool when the signal aborts', async () => {
    const marker = `anullsrc=r=44100:cl=mono:d=${600 + Math.floor(Math.random() * 1000)}`;
    const controller = new AbortController();
    const pending = run(tools.ffmpeg, ['-nostdin', '-re', '-f', 'lavfi', '-i', marker, '-f', 'null', '-'], {
      signal: controller.signal,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(running(marker)).toBe(true);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await new Promise((r) => setTimeout(r, 100));
    expect(running(marker)).toBe(false);
  });

  it('reports a missing tool as unrecoverable', async () => {
    await expect(run('/nonexistent/ffmpeg', [])).rejects.toBeInstanceOf(UnrecoverableError);
  });
});

describe('probe and makeSample', () => {
  it('reads a generated sample with video, audio and an English subtitle', async () => {
    const file = await makeSample(dir, 'probe', 640, 360, { seconds: 8 });
    const info = await probe(file);
    expect(info.video).toMatchObject({ width: 640, height: 360, fps: 24 });
    expect(info.audio?.channels).toBe(1);
    expect(info.subtitles).toEqual([expect.objectContaining({ codec: 'subrip', language: 'eng' })]);
    expect(info.durationSeconds).toBeCloseTo(8, 1);
  });

  it('fails unrecoverably on a file that is not media', async () => {
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'not a video');
    await expect(probe(file)).rejects.toBeInstanceOf(UnrecoverableError);
  });
});

describe('thumbnail VTT', () => {
  const grid = { columns: 2, rows: 2, width: 320, height: 180 };
  it('places thumbnails row by row and moves to the next sheet', () => {
    expect(tilePosition(0, grid)).toEqual({ sheet: 0, x: 0, y: 0 });
    expect(tilePosition(3, grid)).toEqual({ sheet: 0, x: 320, y: 180 });
    expect(tilePosition(4, grid)).toEqual({ sheet: 1, x: 0, y: 0 });
  });

  it('writes one cue per thumbnail, the last ending at the duration', () => {
    const vtt = thumbnailVtt([0, 5, 10, 15, 20], 22.5, grid, (s) => `sheet_${s}.jpg`);
    const cues = vtt.trim().split('\n\n').slice(1);
    expect(vtt.startsWith('WEBVTT\n\n')).toBe(true);
    expect(cues).toHaveLength(5);
    expect(cues[3]).toBe('00:00:15.000 --> 00:00:20.000\nsheet_0.jpg#xywh=320,180,320,180');
    expect(cues[4]).toBe('00:00:20.000 --> 00:00:22.500\nsheet_1.jpg#xywh=0,0,320,180');
    expect(vttTime(3723.0456)).toBe('01:02:03.046');
  });

  it('joins keys under a prefix with or without a trailing slash', () => {
    expect(keyUnder('', 'a.jpg')).toBe('a.jpg');
    expect(keyUnder('m1', 'a.jpg')).toBe('m1/a.jpg');
    expect(keyUnder('m1/', 'a.jpg')).toBe('m1/a.jpg');
  });
});
