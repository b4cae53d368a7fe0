// `pnpm test:browser`: the development player in a real browser (Debian's chromium, headless,
// driven by playwright-core; no browser download) against the demo's apps and a real ingest.
// It plays past 3 s, shows a subtitle cue, shows a trickplay thumbnail on hover, heartbeats,
// then ends the session and checks that the next segment request is refused (403). It keeps a
// screenshot in browser-results/. Not part of `npm test`: it needs chromium (installed here
// with apt-get when missing and running as root).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, ensureChromium } from '@nself-tv/test-redis';
import { chromium } from 'playwright-core';
import { keptDemo } from './kept-demo.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const results = join(here, '..', 'browser-results');
const say = (line) => console.log(`[browser] ${line}`);
const fail = (message) => {
  throw new Error(message);
};
const CHROMIUM = ensureChromium(say);

// A real ingest on the real apps: the demo, kept running.
const dir = await mkdtemp(join(tmpdir(), 'nself-browser-'));
say(`running the demo (12 s sample) in ${dir}`);
const { running, gateway, stop: stopAll } = await keptDemo(dir, ['--seconds', '12']);

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
});
let ok = false;
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const segments = [];
  const refusals = [];
  page.on('response', (r) => {
    if (/\/seg_\d+\.ts$/.test(r.url())) segments.push(r.url());
    if (r.status() === 403) refusals.push(r.url());
  });
  const url = `${gateway}/dev/player?media=${running.mediaId}&family=${running.familyId}&autoplay=1&heartbeat=2`;
  say(`opening ${url}`);
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('video').currentTime > 3, null, { timeout: 60_000 });
  say(
    `currentTime passed 3 s (${await page.evaluate(() => document.querySelector('video').currentTime.toFixed(2))} s)`,
  );

  // Tracks the player offers: audio renditions and the subtitle track from the master.
  const audio = await page.$$eval('#audio option', (o) => o.map((x) => x.textContent));
  const subs = await page.$$eval('#subs option', (o) => o.map((x) => x.textContent));
  say(`audio tracks: ${audio.join(', ')}; subtitles: ${subs.join(', ')}`);
  if (audio.length < 1 || subs.length < 2) fail('the player does not offer the audio and subtitle tracks');

  // Turn subtitles on and go to a cue: the sample's first cue is 1-3 s.
  await page.selectOption('#subs', '0');
  await page.evaluate(() => {
    const v = document.querySelector('video');
    v.currentTime = 1.2;
  });
  const cue = await page.waitForFunction(
    () => {
      for (const track of document.querySelector('video').textTracks) {
        if (track.mode === 'showing' && track.activeCues && track.activeCues.length) return track.activeCues[0].text;
      }
      return false;
    },
    null,
    { timeout: 30_000 },
  );
  say(`subtitle cue shown: "${await cue.jsonValue()}"`);

  // Trickplay: hover over the seek bar.
  const seek = await page.$('#seek');
  const box = await seek.boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await page.waitForFunction(() => getComputedStyle(document.querySelector('#thumb')).display === 'block', null, {
    timeout: 10_000,
  });
  const thumb = await page.evaluate(() => document.querySelector('#thumb').style.backgroundImage);
  if (!/sprite_000\.jpg/.test(thumb)) fail(`no trickplay sheet on hover: ${thumb}`);
  say(`trickplay thumbnail on hover: ${thumb.slice(0, 60)}…`);
  await page.waitForFunction(() => window.player.heartbeats >= 1, null, { timeout: 10_000 });
  say(`heartbeats sent: ${await page.evaluate(() => window.player.heartbeats)}`);
  await mkdir(results, { recursive: true });
  const shot = join(results, 'player.png');
  await page.screenshot({ path: shot });
  say(`screenshot: ${shot}`);

  // End the session: the next segment request is refused.
  const segment = segments.at(-1) ?? fail('no segment was requested');
  await page.click('#stop');
  await page.waitForFunction(() => window.player.ended, null, { timeout: 5_000 });
  const deadline = Date.now() + 5_000;
  let status = 200;
  while (Date.now() < deadline) {
    status = await page.evaluate((u) => fetch(u, { cache: 'no-store' }).then((r) => r.status), segment);
    if (status === 403) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (status !== 403) fail(`a segment after the session ended answered ${status}`);
  say('after ending the session, the next segment request got 403');
  ok = true;
} finally {
  await browser.close();
  stopAll();
  await rm(dir, { recursive: true, force: true });
}
say(ok ? 'browser test passed' : 'browser test FAILED');
process.exit(ok ? 0 : 1);
