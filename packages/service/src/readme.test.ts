import { runReadmeExample } from '@nself-tv/test-redis';
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import * as http from './index.js';
import * as settings from './settings.js';

const api = { ...http, ...settings };

it('the README example runs as written', async () => {
  await expect(
    runReadmeExample(new URL('../README.md', import.meta.url), api, { fastify: () => Fastify() } as never),
  ).resolves.toBeUndefined();
});
