// Subtitle files as subtitle editors, subtitle libraries and their users wrote them (fetched from
// the Debian and npm packages that ship them), read into cues; then hostile ones.
import { readFileSync } from 'node:fs';
import { type FoundName, foundMedia } from '@nself-tv/sample-media';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_CUE_CHARS, MAX_CUES } from './cues.js';
import {
  DEFAULT_SUBTITLE_CHARSET,
  decodeSubtitleText,
  MAX_SIDECAR_BYTES,
  readSidecar,
  type SidecarCues,
  type SidecarOptions,
} from './sidecar.js';

const NAMES = [
  'vim-subtitles.srt',
  'vim-subtitles.sub',
  'aegisub-raytracer.ass',
  'subsrt.ass',
  'subsrt.ssa',
  'subsrt.vtt',
  'subsrt.srt',
  'latin1-es.srt',
  'cp1252.srt',
  'cp1256-ar.srt',
  'utf16le.srt',
  'utf16be.srt',
  'utf32le.srt',
  'captions.scc',
] as const satisfies readonly FoundName[];

let files: Record<(typeof NAMES)[number], string>;
beforeAll(() => {
  files = foundMedia(NAMES);
}, 300_000);

const options: SidecarOptions = { fallbackCharset: DEFAULT_SUBTITLE_CHARSET, fps: 25 };
const read = (name: (typeof NAMES)[number], o: Partial<SidecarOptions> = {}) =>
  readSidecar(readFileSync(files[name]), { ...options, ...o });
const cues = (name: (typeof NAMES)[number], o: Partial<SidecarOptions> = {}) => {
  const r = read(name, o);
  if ('code' in r) throw new Error(`${name}: ${r.code} ${r.reason}`);
  return r as SidecarCues;
};

describe('sidecar files people keep next to their films', () => {
  it('SubRip as vim-subtitles ships it: every cue, its lines and times', () => {
    const r = cues('vim-subtitles.srt');
    expect(r.format).toBe('srt');
    expect(r.cues).toHaveLength(8);
    expect(r.cues[0]).toEqual({
      start: 1.5,
      end: 9,
      text: 'This is an example subtitle file\nof the popular Subrip (srt) format',
      top: false,
    });
  });

  it('WebVTT with NOTE and STYLE blocks and cue identifiers (subsrt): all five cues, which ffmpeg 5.1 loses', () => {
    const r = cues('subsrt.vtt');
    expect(r.format).toBe('webvtt');
    expect(r.cues.map((c) => [c.start, c.end])).toEqual([
      [1, 4],
      [5, 9],
      [20, 22],
      [22, 24],
      [24, 30],
    ]);
    expect(r.cues[3]?.text).toBe('That’s an, an, that’s an L!');
    expect(r.cues.map((c) => c.text).join('\n')).not.toMatch(/NOTE|::cue|papayawhip/);
  });

  it('ASS whose every line starts with a space (subsrt, written by Aegisub): read, overrides gone, \\N a line break', () => {
    const r = cues('subsrt.ass');
    expect(r.format).toBe('ass');
    expect(r.cues).toEqual([
      { start: 1.18, end: 6.85, text: 'Like an Angel with pity on nobody\nThe second line in subtitle', top: false },
    ]);
    const ssa = cues('subsrt.ssa');
    expect(ssa.format).toBe('ssa');
    // SSA v4: the first field is `Marked=0`, not a layer; the Format line says so.
    expect(ssa.cues).toEqual([{ start: 1.18, end: 6.85, text: 'Like an angel with pity on nobody', top: false }]);
  });

  it("Aegisub's own demo script: every Dialogue line with text a cue, in time order", () => {
    const r = cues('aegisub-raytracer.ass');
    // Six Dialogue lines; the last has no text.
    expect(r.cues).toHaveLength(5);
    expect(r.cues[0]).toMatchObject({ start: 0, end: 5, text: 'light 2 2 2 100 0 0' });
    for (const [i, c] of r.cues.entries()) expect(c.start).toBe(i * 5);
  });

  it("MicroDVD (vim-subtitles): frame numbers at the film's rate, | a line break; no rate, no guess", () => {
    const at25 = cues('vim-subtitles.sub', { fps: 25 });
    expect(at25.format).toBe('microdvd');
    expect(at25.cues[0]).toEqual({
      start: 36 / 25,
      end: 216 / 25,
      text: 'This is an example subtitle file\nof the MicroDVD (sub) format',
      top: false,
    });
    expect(cues('vim-subtitles.sub', { fps: 30000 / 1001 }).cues[0]?.start).toBeCloseTo(36 / (30000 / 1001), 9);
    expect(read('vim-subtitles.sub', { fps: undefined })).toMatchObject({ code: 'SIDECAR_NO_FRAME_RATE' });
  });

  it('Latin-1 Spanish (srt-to-vtt) is detected; a Windows-1252 cue too short to detect falls back to SUBTITLE_CHARSET', () => {
    const es = cues('latin1-es.srt');
    expect(es.charset).toBe('windows-1252');
    expect(es.cues[0]?.text).toBe('<i>Todo está bien, hijo.</i>');
    const short = cues('cp1252.srt');
    expect(short.cues[0]?.text).toBe('ÅWESØM');
  });

  it('Arabic in Windows-1256, which no detector names: read right with SUBTITLE_CHARSET or the request’s charset', () => {
    expect(cues('cp1256-ar.srt', { fallbackCharset: 'windows-1256' }).cues[0]?.text).toBe(
      '<i><b>"كينغ لاندينج"</b></i>',
    );
    expect(cues('cp1256-ar.srt', { charset: 'windows-1256' }).cues[0]?.text).toBe('<i><b>"كينغ لاندينج"</b></i>');
    // Read in the Latin fallback it is mojibake, never a failure.
    expect(cues('cp1256-ar.srt').cues[0]?.text).not.toContain('كينغ');
  });

  it('UTF-16 LE and BE and UTF-32 LE with their BOMs', () => {
    for (const name of ['utf16le.srt', 'utf16be.srt', 'utf32le.srt'] as const) {
      const r = cues(name);
      expect(r.charset, name).toMatch(/^utf-(16|32)/);
      expect(r.cues.length, name).toBeGreaterThan(0);
      // A character outside the BMP (U+1D11E): a surrogate pair in UTF-16, one unit in UTF-32.
      expect(
        r.cues.map((c) => c.text),
        name,
      ).toEqual(['\u{1D11E}!']);
    }
  });

  it('SCC broadcast captions are recognised and skipped with a code, not failed', () => {
    expect(read('captions.scc')).toMatchObject({ code: 'SIDECAR_UNSUPPORTED_FORMAT', format: 'scc' });
  });
});

describe('hostile sidecar files', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const parse = (text: string) => readSidecar(bytes(text), options);

  it('cue text is escaped: markup other than <i>, <b>, <u> cannot reach a player, nor can a cue end early', () => {
    const r = parse(
      '1\n00:00:01,000 --> 00:00:02,000\n<script>alert(1)</script> & <font color="red">x</font> --> <b>y</b>\n',
    ) as SidecarCues;
    expect(r.cues[0]?.text).toBe('alert(1) &amp; x -&gt; <b>y</b>');
    const vtt = parse('WEBVTT\n\n00:01.000 --> 00:02.000\n&lt;b&gt; is a tag <c.red>red</c>\n') as SidecarCues;
    expect(vtt.cues[0]?.text).toBe('&lt;b&gt; is a tag red');
  });

  it('bounded: cue length, cue count, file size, absurd times', () => {
    const long = parse(`1\n00:00:01,000 --> 00:00:02,000\n${'x'.repeat(100_000)}\n`) as SidecarCues;
    expect(long.cues[0]?.text.length).toBe(MAX_CUE_CHARS);
    const many = Array.from({ length: MAX_CUES + 500 }, (_, i) => `{${i * 10}}{${i * 10 + 5}}c${i}`).join('\n');
    expect((parse(many) as SidecarCues).cues).toHaveLength(MAX_CUES);
    expect(readSidecar(new Uint8Array(MAX_SIDECAR_BYTES + 1), options)).toMatchObject({ code: 'SIDECAR_TOO_LARGE' });
    const late = parse('1\n999:00:00,000 --> 999:00:01,000\nlate\n2\n00:00:01,000 --> 00:00:00,500\nbackwards\n');
    expect(late).toMatchObject({ code: 'SIDECAR_EMPTY' });
  });

  it('what is not a subtitle file, or holds no cue, is skipped with its code', () => {
    expect(parse('#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n')).toMatchObject({ code: 'SIDECAR_UNKNOWN_FORMAT' });
    expect(readSidecar(new Uint8Array([0, 159, 146, 150, 255, 0, 1]), options)).toMatchObject({
      code: 'SIDECAR_UNKNOWN_FORMAT',
    });
    expect(parse('WEBVTT\n\nNOTE only a note\n')).toMatchObject({ code: 'SIDECAR_EMPTY' });
  });

  it('invalid UTF-8 with no charset to detect decodes in the fallback instead of failing', () => {
    const latin = Uint8Array.from([...bytes('1\n00:00:01,000 --> 00:00:02,000\ncaf'), 0xe9, 0x0a]);
    expect(decodeSubtitleText(latin, 'windows-1252').text).toContain('café');
  });
});
