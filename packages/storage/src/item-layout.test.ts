import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { hlsLayout } from './hls-layout.js';
import { ITEM_LAYOUT, itemFolder, itemKey, keyUnder, renderItemLayoutTable } from './item-layout.js';
import { keyProblem, prefixProblem } from './location-rules.js';
import { mediaAccessLocation } from './media-access.js';

describe('the layout inside a media item', () => {
  it('joins keys under a prefix with or without a trailing slash: the one rule', () => {
    expect(keyUnder('', 'a.jpg')).toBe('a.jpg');
    expect(keyUnder('m1', 'a.jpg')).toBe('m1/a.jpg');
    expect(keyUnder('m1/', 'a.jpg')).toBe('m1/a.jpg');
  });

  it('builds every entry’s key, and every one is a key or a prefix the stores accept', () => {
    const prefix = hlsLayout().prefixFor('m1');
    expect(itemKey(prefix, 'master')).toBe('library/m1/master.m3u8');
    expect(itemKey(prefix, 'trickplay', ITEM_LAYOUT.trickplay.index)).toBe('library/m1/trickplay/trickplay.vtt');
    expect(itemFolder({ bucket: 'media', prefix: 'hls/m1' }, 'posters')).toEqual({
      bucket: 'media',
      prefix: 'hls/m1/posters/',
    });
    expect(mediaAccessLocation(hlsLayout(), 'm1')).toEqual({ bucket: 'media', key: 'library/m1/access.json' });
    for (const [name, entry] of Object.entries(ITEM_LAYOUT)) {
      const key = itemKey(prefix, name as keyof typeof ITEM_LAYOUT);
      expect(entry.path.endsWith('/') ? prefixProblem(key) : keyProblem(key), name).toBeUndefined();
    }
    // No two entries share a path: a reader never takes one for another.
    const paths = Object.values(ITEM_LAYOUT).map((e) => e.path);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('is the table the READMEs show', async () => {
    for (const file of ['../README.md', '../../../README.md']) {
      const readme = await readFile(new URL(file, import.meta.url), 'utf8');
      expect(readme, file).toContain(
        `<!-- item-layout:start -->\n${renderItemLayoutTable()}\n<!-- item-layout:end -->`,
      );
    }
  });
});
