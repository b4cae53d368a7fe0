import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReadmeExample } from '@nself-tv/test-redis';
import { expect, it } from 'vitest';
import * as api from './index.js';

it('the README example runs as written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'media-tools-readme-'));
  try {
    await expect(runReadmeExample(new URL('../README.md', import.meta.url), api, { dir })).resolves.toBeUndefined();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
