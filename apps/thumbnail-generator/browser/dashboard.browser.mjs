// `pnpm test:browser` (with the player test): the queue dashboard in a real browser (Debian's
// chromium, headless, driven by playwright-core; no browser download) against two real
// thumbnail-generator processes on one Redis, one with DASHBOARD=read-write and one read-only.
// The queues hold what operators meet: waiting, prioritized and delayed video jobs, and an
// optimize job the app failed because its upload was missing. The test checks that
// - a browser without the token gets 401;
// - every queue's counts on the dashboard equal `nself-tv-redis --json`;
// - the failed job's reason shows;
// - read-only: no actions are offered, and a retry sent anyway is refused (403);
// - read-write: once the upload is there, Retry on the dashboard reruns the job to completion.
// Screenshots are kept in browser-results/.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { run as runTool, tools } from '@nself-tv/media-tools';
import { createProducer } from '@nself-tv/queues';
import { createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { CHROMIUM_ARGS, ensureChromium, jobApi, startAppProcess, startRedisServer, until } from '@nself-tv/test-redis';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const results = join(here, '..', 'browser-results');
const say = (line) => console.log(`[dashboard] ${line}`);
const fail = (message) => {
  throw new Error(message);
};
const CHROMIUM = ensureChromium(say);
const cli = join(dirname(createRequire(import.meta.url).resolve('@nself-tv/metrics/package.json')), 'dist/cli.js');

const API_TOKEN = 'browser-api-token-0123456789';
const DASHBOARD_TOKEN = 'browser-dashboard-token-0123456789';
const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'];

const server = await startRedisServer();
const mediaRoot = await mkdtemp(join(tmpdir(), 'nself-dashboard-'));
const apps = [];
const app = (env) => {
  const started = startAppProcess(
    fileURLToPath(new URL('../dist/main.js', import.meta.url)),
    'thumbnail-generator listening',
    { REDIS_URL: server.url, PORT: '0', HOST: '127.0.0.1', MEDIA_ROOT: mediaRoot, API_TOKEN, ...env },
    { keepOutput: false },
  );
  apps.push(started);
  return started.address;
};

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
let ok = false;
try {
  const readWrite = await app({ DASHBOARD: 'read-write', DASHBOARD_TOKEN });
  // The app's own token opens a read-only board when it has no token of its own.
  const readOnly = await app({ DASHBOARD: 'read-only' });
  const board = (base, path = '') => `${base}/admin/queues${path}`;

  // Video jobs nobody here consumes, so their counts hold still.
  const connection = createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }));
  const producer = createProducer({ connection });
  const video = (m) => ({
    mediaId: m,
    familyId: 'fam',
    source: { bucket: 'media', key: `uploads/${m}.mkv` },
    output: { bucket: 'media', prefix: `library/${m}/` },
  });
  for (const m of ['film-a', 'film-b', 'film-c']) await producer.enqueue('video:transcode', video(m));
  await producer.enqueue('video:subtitle', video('film-d'), { priority: 3 });
  await producer.enqueue('video:trickplay', video('film-e'), { delayMs: 3_600_000 });
  await producer.close();
  connection.disconnect();

  // An optimize job whose upload is missing: the app fails it at once (NOT_FOUND).
  const jobs = jobApi(readWrite, API_TOKEN);
  const submitted = await jobs.submit('optimize', {
    source: { bucket: 'media', key: 'posters/missing.png' },
    output: { bucket: 'media', key: 'posters/missing.webp' },
  });
  if (submitted.status !== 202) fail(`submit: ${submitted.status} ${JSON.stringify(submitted.body)}`);
  const { jobId } = submitted.body;
  const failed = await until(async () => {
    const job = await jobs.job(jobId);
    return job.state === 'failed' ? job : undefined;
  }, 30_000);
  say(`job ${jobId} failed: ${failed.failedReason}`);

  const { stdout } = await promisify(execFile)(process.execPath, [cli, '--json', '--url', server.url]);
  const status = JSON.parse(stdout);

  // No token: 401, and the browser is asked for one.
  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  await strangerPage.goto(`${readWrite}/health`);
  const refused = await strangerPage.evaluate(async () => {
    const r = await fetch('/admin/queues', { credentials: 'omit' });
    return { status: r.status, challenge: r.headers.get('www-authenticate') };
  });
  if (refused.status !== 401) fail(`without a token the dashboard answered ${refused.status}`);
  if (!/^Basic /.test(refused.challenge ?? '')) fail('no Basic challenge');
  await stranger.close();
  say('without a token: 401 with a Basic challenge');

  const operator = await browser.newContext({
    httpCredentials: { username: 'operator', password: DASHBOARD_TOKEN },
    viewport: { width: 1300, height: 900 },
  });
  const page = await operator.newPage();
  await page.goto(board(readWrite));
  await page.getByText('video:transcode').first().waitFor();
  await mkdir(results, { recursive: true });
  await page.screenshot({ path: join(results, 'dashboard-overview.png') });

  // Each queue's page shows a badge per state with its count (none when 0).
  const shown = async (queue) => {
    await page.goto(board(readWrite, `/queue/${encodeURIComponent(queue)}`));
    const tabs = page.locator('[class^="statusTabs-"] li a');
    await tabs.first().waitFor();
    await page.waitForLoadState('networkidle');
    const counts = {};
    for (const tab of await tabs.all()) {
      const label = (await tab.locator('[data-text]').getAttribute('data-text')).toLowerCase().replace(' ', '-');
      const badge = tab.locator('[class^="badge-"]');
      counts[label] = (await badge.count()) ? Number(await badge.textContent()) : 0;
    }
    return counts;
  };
  for (const expected of status.queues) {
    const counts = await shown(expected.queue);
    for (const state of STATES) {
      if (counts[state] !== expected[state]) {
        fail(`${expected.queue} ${state}: dashboard ${counts[state]}, nself-tv-redis ${expected[state]}`);
      }
    }
    say(`${expected.queue}: ${STATES.map((s) => `${s} ${counts[s]}`).join(', ')} (as nself-tv-redis --json)`);
  }

  // The failed job and its reason.
  const failedPage = board(readWrite, `/queue/image%3Aoptimize?status=failed`);
  await page.goto(failedPage);
  await page.getByText(jobId, { exact: true }).waitFor();
  await page.getByText(failed.failedReason.split('\n')[0], { exact: false }).first().waitFor();
  await page.screenshot({ path: join(results, 'dashboard-failed-job.png') });
  say('the failed job shows its reason');

  // Read-only: no actions on the job, and a retry sent anyway is refused.
  const viewer = await browser.newContext({ httpCredentials: { username: 'operator', password: API_TOKEN } });
  const viewerPage = await viewer.newPage();
  await viewerPage.goto(board(readOnly, `/queue/image%3Aoptimize?status=failed`));
  await viewerPage.getByText(jobId, { exact: true }).waitFor();
  const actions = await viewerPage.locator('[class^="jobActions-"] button').count();
  if (actions !== 0) fail(`the read-only board offers ${actions} job actions`);
  const forced = await viewerPage.evaluate(
    async (url) => (await fetch(url, { method: 'PUT' })).status,
    board(readOnly, `/api/queues/image:optimize/${jobId}/retry`),
  );
  if (forced !== 403) fail(`a retry on the read-only board answered ${forced}`);
  if ((await jobs.job(jobId)).state !== 'failed') fail('the read-only board changed the job');
  await viewer.close();
  say('read-only: no actions offered; a retry sent anyway: 403; the job is still failed');

  // Read-write: the upload arrives, the operator retries, the job completes.
  await mkdir(join(mediaRoot, 'media', 'posters'), { recursive: true });
  await runTool(tools.ffmpeg, [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360', '-frames:v', '1'],
    join(mediaRoot, 'media', 'posters', 'missing.png'),
  ]);
  await page.goto(failedPage);
  await page.getByText(jobId, { exact: true }).waitFor();
  const retried = page.waitForResponse((r) => r.url().endsWith(`/${jobId}/retry`) && r.request().method() === 'PUT');
  await page.locator('[class^="jobActions-"] li').first().locator('button').click();
  // Some builds ask before acting.
  const confirm = page.getByRole('button', { name: /^(confirm|retry|yes)$/i });
  if (await confirm.count()) await confirm.first().click();
  const response = await retried;
  if (response.status() !== 204) fail(`retry answered ${response.status()}`);
  const completed = await until(async () => {
    const job = await jobs.job(jobId);
    return job.state === 'completed' ? job : undefined;
  }, 30_000);
  await page.goto(board(readWrite, `/queue/image%3Aoptimize?status=completed`));
  await page.getByText(jobId, { exact: true }).waitFor();
  await page.screenshot({ path: join(results, 'dashboard-retried.png') });
  say(`read-write: Retry ran the job again: ${completed.state}, ${completed.result.optimizedBytes} bytes`);
  say(`screenshots: ${results}/dashboard-*.png`);
  ok = true;
} finally {
  await browser.close();
  for (const started of apps) {
    started.child.kill('SIGTERM');
    await started.exited;
  }
  await server.close();
  await rm(mediaRoot, { recursive: true, force: true });
}
say(ok ? 'passed' : 'FAILED');
process.exit(ok ? 0 : 1);
