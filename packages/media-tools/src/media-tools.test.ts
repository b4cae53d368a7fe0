import { copyFile, mkdir as mkdirp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesMatching } from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configureTools,
  confinement,
  frameName,
  inputArgs,
  orientationOf,
  outputFps,
  probe,
  run,
  sheetLayout,
  sheetName,
  ToolError,
  thumbnailIntervalFor,
  thumbnailVtt,
  tilePosition,
  tools,
  videoPackets,
  vttTime,
} from './index.js';
import { parseDisplayMatrix } from './picture.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'media-tools-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const running = (pattern: string) => processesMatching(pattern).length > 0;

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
    await expect(run('/nonexistent/ffmpeg', [])).rejects.toMatchObject({ name: 'MediaError', code: 'TOOL_MISSING' });
  });

  it('confines the child: group signals blocked, memory capped, killed with its parent', async () => {
    expect(confinement(tools.maxMemoryMb)).toEqual({
      signalsBlocked: true,
      diesWithParent: true,
      memoryLimitMb: tools.maxMemoryMb,
    });
    const status = await run('cat', ['/proc/self/status']);
    // SIGHUP (1), SIGINT (2), SIGQUIT (3) and SIGTERM (15) blocked: bits 0, 1, 2 and 14.
    const blocked = BigInt(`0x${/SigBlk:\s*([0-9a-f]+)/.exec(status)?.[1]}`);
    expect(blocked & 0x4007n).toBe(0x4007n);
    const limits = await run('cat', ['/proc/self/limits']);
    expect(limits).toMatch(new RegExp(`Max data size\\s+${(tools.maxMemoryMb ?? 0) * 1024 * 1024}\\s`));

    // Decoding a frame that needs more than the cap fails instead of taking the machine;
    // the same decode succeeds under the default cap.
    const big = join(dir, 'big-frame.mkv');
    await run(
      tools.ffmpeg,
      ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=s=8192x8192', '-frames:v', '1'].concat([
        '-c:v',
        'mjpeg',
        '-pix_fmt',
        'yuvj420p',
        big,
      ]),
    );
    const decode = [...inputArgs(big), '-vf', 'scale=320:180', '-f', 'null', '-'];
    await run(tools.ffmpeg, ['-v', 'error', '-nostdin', ...decode]);
    const saved = tools.maxMemoryMb;
    configureTools({ maxMemoryMb: 128 });
    try {
      await expect(run(tools.ffmpeg, ['-v', 'error', '-nostdin', ...decode])).rejects.toBeInstanceOf(ToolError);
    } finally {
      configureTools({ maxMemoryMb: saved });
    }

    // SIGTERM and SIGINT to the child (as a terminal's Ctrl-C or systemd's group kill would send) do nothing.
    const marker = `anullsrc=r=44100:cl=mono:d=${700 + Math.floor(Math.random() * 1000)}`;
    const controller = new AbortController();
    const pending = run(tools.ffmpeg, ['-nostdin', '-re', '-f', 'lavfi', '-i', marker, '-f', 'null', '-'], {
      signal: controller.signal,
    });
    pending.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const pid = Number(processesMatching(marker)[0]);
    process.kill(pid, 'SIGTERM');
    process.kill(pid, 'SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    expect(running(marker)).toBe(true);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  it('kills the tool after its timeout', async () => {
    const started = Date.now();
    const error = await run(
      tools.ffmpeg,
      ['-nostdin', '-re', '-f', 'lavfi', '-i', 'anullsrc=d=60', '-f', 'null', '-'],
      {
        timeoutMs: 300,
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).message).toContain('killed after 300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('inputArgs: a file is read as the one file it is', () => {
  it('refuses playlists, concat lists and image sequences uploaded under a media name', async () => {
    const secret = join(dir, 'secret.mkv');
    await run(tools.ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=s=160x120:d=2', secret]);
    await writeFile(join(dir, 'secret.srt'), '1\n00:00:00,000 --> 00:00:01,000\nTOP SECRET\n');
    const hostile: Record<string, string> = {
      'hls.mp4': `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2,\n${secret}\n#EXT-X-ENDLIST\n`,
      'relative-hls.mkv': '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2,\n../secret.mkv\n#EXT-X-ENDLIST\n',
      'concat.mp4': `ffconcat version 1.0\nfile '${secret}'\n`,
      'subs-hls.srt': `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2,\n${join(dir, 'secret.srt')}\n#EXT-X-ENDLIST\n`,
    };
    await mkdirp(join(dir, 'up'));
    for (const [name, text] of Object.entries(hostile)) await writeFile(join(dir, 'up', name), text);
    // Without the whitelist ffmpeg would follow them: the attack is real.
    expect(await run(tools.ffprobe, ['-v', 'error', '-show_format', join(dir, 'up', 'hls.mp4')])).toContain(
      'format_name=hls',
    );
    for (const name of ['hls.mp4', 'relative-hls.mkv', 'concat.mp4']) {
      await expect(probe(join(dir, 'up', name))).rejects.toThrow(/refused input: .*(hls|concat) is not read/);
    }
    const error = await run(tools.ffmpeg, [
      '-v',
      'error',
      ...inputArgs(join(dir, 'up', 'subs-hls.srt'), 'subtitle'),
      '-f',
      'webvtt',
      '-',
    ]).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'MediaError', code: 'REFUSED_INPUT' });
    expect((error as Error).message).toMatch(/refused input: .*hls is not read/);
    // A name with '%d' is not an image-sequence pattern, and a ':' is not a protocol.
    const odd = join(dir, 'up', 'clip%03d:x.mkv');
    await copyFile(secret, odd);
    expect((await probe(odd)).video).toMatchObject({ width: 160, height: 120 });
  });
});

describe('probe', () => {
  it('fails unrecoverably on a file that is not media', async () => {
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'not a video');
    await expect(probe(file)).rejects.toMatchObject({ name: 'MediaError', code: 'NOT_MEDIA' });
    await expect(videoPackets(file, 0)).rejects.toMatchObject({ name: 'MediaError', code: 'NOT_MEDIA' });
  });

  it('reads the profile, level and packets an encoder wrote: keyframes where it put them, B-frames reordered', async () => {
    const file = join(dir, 'keys.mp4');
    await run(tools.ffmpeg, [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=3'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'main', '-level', '3.1', '-bf', '2'],
      ...['-force_key_frames', '0,0.8,2.2', '-x264-params', 'keyint=1000:scenecut=0', file],
    ]);
    const info = await probe(file);
    expect(info.video).toMatchObject({ profile: 'Main', level: 31, pixelFormat: 'yuv420p' });
    const packets = await videoPackets(file, info.video?.index ?? 0);
    expect(packets.pts).toHaveLength(75);
    expect(packets.keyframes.map((i) => packets.pts[i])).toEqual([0, 0.8, 2.2]);
    // Decode order is not presentation order: a B-frame comes after the frame it looks back from.
    expect([...packets.pts].some((t, i) => i > 0 && t < (packets.pts[i - 1] as number))).toBe(true);
    expect(packets.bytes.every((b) => b > 0)).toBe(true);
  });
});

describe('thumbnail VTT', () => {
  const grid = { columns: 2, rows: 2, width: 320, height: 180 };
  it('places thumbnails row by row and moves to the next sheet', () => {
    expect(tilePosition(0, grid)).toEqual({ sheet: 0, x: 0, y: 0 });
    expect(tilePosition(3, grid)).toEqual({ sheet: 0, x: 320, y: 180 });
    expect(tilePosition(4, grid)).toEqual({ sheet: 1, x: 0, y: 0 });
  });

  it('lays sheets out at the grid’s size, or trims the last one, and names sheets and frames one way', () => {
    expect(sheetLayout(5, grid, { trim: false })).toEqual([
      { index: 0, firstThumbnail: 0, lastThumbnail: 3, columns: 2, rows: 2, width: 640, height: 360 },
      { index: 1, firstThumbnail: 4, lastThumbnail: 4, columns: 2, rows: 2, width: 640, height: 360 },
    ]);
    expect(sheetLayout(5, grid, { trim: true })[1]).toEqual({
      index: 1,
      firstThumbnail: 4,
      lastThumbnail: 4,
      columns: 1,
      rows: 1,
      width: 320,
      height: 180,
    });
    expect(sheetLayout(0, grid, { trim: true })).toEqual([]);
    expect([sheetName(0), sheetName(12), frameName(7)]).toEqual([
      'sprite_000.jpg',
      'sprite_012.jpg',
      'frame_00007.jpg',
    ]);
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

  it('widens the interval so no video makes more than MAX_THUMBNAILS thumbnails', () => {
    expect(thumbnailIntervalFor(7200, 10, 10_000)).toBe(10);
    expect(thumbnailIntervalFor(6000, 0.5, 10_000)).toBe(0.6);
    expect(thumbnailIntervalFor(3 * 3600, 1, 10_000)).toBe(1.08);
    expect(Math.ceil(10_001 / thumbnailIntervalFor(10_001, 0.5, 10_000))).toBeLessThanOrEqual(10_000);
  });
});

describe('picture', () => {
  it('reads a display matrix as ffmpeg does: rotations, and mirrors that ffmpeg 5.1 ignores', () => {
    const m = (a: number, b: number, c: number, d: number) => [
      a * 65536,
      b * 65536,
      0,
      c * 65536,
      d * 65536,
      0,
      0,
      0,
      1 << 30,
    ];
    expect(orientationOf(undefined)).toMatchObject({ rotation: 0, filters: [] });
    expect(orientationOf(m(0, -1, 1, 0))).toMatchObject({ rotation: 270, filters: ['transpose=cclock'] });
    expect(orientationOf(m(0, 1, -1, 0))).toMatchObject({ rotation: 90, filters: ['transpose=clock'] });
    expect(orientationOf(m(-1, 0, 0, -1))).toMatchObject({ rotation: 180, filters: ['hflip', 'vflip'] });
    expect(orientationOf(m(-1, 0, 0, 1))).toMatchObject({ rotation: 0, hflip: true, filters: ['hflip'] });
    expect(orientationOf(m(1, 0, 0, -1))).toMatchObject({ rotation: 0, vflip: true, filters: ['vflip'] });
    expect(orientationOf(m(0, 1, 1, 0)).filters).toEqual(['transpose=cclock_flip']);
    expect(
      parseDisplayMatrix(
        '\n00000000:            0      -65536           0\n00000001:        65536           0           0\n00000002:            0           0  1073741824\n',
      ),
    ).toEqual(m(0, -1, 1, 0));
  });

  it('encodes at the nominal rate: standard rates snapped to the nearest, capped at 60', () => {
    expect(outputFps('24/1', '24/1')).toBe(24);
    expect(outputFps('24000/1001', '24000/1001')).toBeCloseTo(23.976, 3);
    expect(outputFps('30/1', '2391/100')).toBe(30);
    expect(outputFps('120/1', '120/1')).toBe(60);
    expect(outputFps('90000/1', '2997/100')).toBeCloseTo(29.97, 2);
    expect(outputFps(undefined, '0/0')).toBe(25);
    expect(outputFps('15/1', '15/1')).toBe(15);
  });
});
