// `pnpm test:browser`: a film starts playing while its ingest is still running. hls.js (from npm)
// in Debian's chromium admits through the gateway as soon as the ingest says the film is
// playable, plays from its first frame across chunk boundaries while the EVENT playlists grow,
// and sees them end (VOD). It may wait at the growing edge when the encode is slower than
// playback (as a live player does), but never inside media that was already listed: a stall there
// is a hole at a chunk join. Not part of `npm test`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, ensureChromium, freePort } from '@nself-tv/test-redis';
import { chromium } from 'playwright-core';
import { callerTokenFor, keptDemo } from './kept-demo.mjs';

const require = createRequire(import.meta.url);
const say = (line) => console.log(`[growing] ${line}`);
const fail = (message) => {
  throw new Error(message);
};
const CHROMIUM = ensureChromium(say);
const CHUNK_SECONDS = 8;
const FILM_SECONDS = 64;

const dir = await mkdtemp(join(tmpdir(), 'nself-growing-'));
// A film at 480p (three rungs): on a 2-core box its chunks encode about twice as fast as it plays
// (at 720p a busy CI box fell behind at the first join). Should the player still catch up with the
// encode, it waits at the edge; the test tells that apart from a hole and prints both.
const film = join(dir, 'film.mp4');
const made = spawnSync('ffmpeg', [
  ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=854x480:rate=24000/1001:duration=${FILM_SECONDS}`],
  ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${FILM_SECONDS}:sample_rate=48000`],
  ...['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '3', '-c:a', 'aac', '-shortest', film],
]);
if (made.status !== 0) fail(`could not make the film: ${made.stderr}`);

const appPort = await freePort();
const appOrigin = `http://127.0.0.1:${appPort}`;
// The demo's own short sample sets everything up; the film is ingested afterwards, while we watch.
const { running, gateway, stop } = await keptDemo(join(dir, 'demo'), ['--seconds', '4'], {
  CORS_ORIGINS: appOrigin,
  TRANSCODE_CHUNK_SECONDS: String(CHUNK_SECONDS),
});
const processor = running.apps.find((a) => a.name === 'video-processor').address;
const api = (method, path, body) =>
  fetch(`${processor}${path}`, {
    method,
    headers: { authorization: `Bearer ${running.secrets.API_TOKEN}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

const callerToken = await callerTokenFor(running);

const page = `<!doctype html><meta charset="utf-8"><title>growing</title>
<video id="v" muted playsinline width="640" height="360"></video>
<script src="/hls.js"></script>
<script>
window.report = { errors: [], stalls: [], playing: false, levels: [], firstFrame: undefined, edge: 0 };
(async () => {
  const params = new URLSearchParams(location.search);
  const admit = await fetch(params.get('gateway') + '/api/v1/admit', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + params.get('token'), 'content-type': 'application/json' },
    body: JSON.stringify({ mediaId: params.get('media'), deviceId: crypto.randomUUID() }),
  });
  report.admitStatus = admit.status;
  const { data } = await admit.json();
  const video = document.getElementById('v');
  video.requestVideoFrameCallback((_n, meta) => { report.firstFrame = meta.mediaTime; });
  video.addEventListener('playing', () => { report.playing = true; });
  // A stall once playback has begun: the player ran out of media. Where it was, and how much of the
  // film the playlist it last loaded listed (the growing edge).
  const stall = (why) => { if (report.playing) report.stalls.push({ why, at: video.currentTime, edge: report.edge }); };
  video.addEventListener('waiting', () => stall('waiting'));
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_e, d) => {
    if (d.details === 'bufferStalledError') stall(d.details);
    else if (d.fatal || d.details === 'levelParsingError') report.errors.push(d.details + ' ' + (d.reason || ''));
  });
  hls.on(Hls.Events.LEVEL_LOADED, (_e, d) => {
    report.edge = d.details.totalduration;
    report.levels.push({ at: video.currentTime, live: d.details.live, type: d.details.type, segments: d.details.fragments.length });
  });
  hls.loadSource(data.mediaUrl);
  hls.attachMedia(video);
  video.play().catch((e) => report.errors.push('play ' + e.message));
})().catch((e) => report.errors.push(String(e)));
</script>`;
const app = createServer((req, res) => {
  if (req.url.startsWith('/hls.js')) {
    res.setHeader('content-type', 'text/javascript');
    return res.end(readFileSync(require.resolve('hls.js/dist/hls.min.js')));
  }
  res.setHeader('content-type', 'text/html');
  res.end(page);
});
await new Promise((ok) => app.listen(appPort, '127.0.0.1', ok));

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
});
let ok = false;
try {
  const mediaId = 'growing-film';
  const sourceKey = 'uploads/growing-film.mp4';
  // The film goes where the demo keeps its uploads (its media root, bucket `media`).
  const copied = spawnSync('cp', [film, join(dir, 'demo', 'media', 'media', sourceKey)]);
  if (copied.status !== 0) fail(`could not place the film: ${copied.stderr}`);
  const submitted = Date.now();
  const posted = await api('POST', '/api/v1/ingests', {
    ingestId: 'growing',
    mediaId,
    familyId: running.familyId,
    source: { bucket: 'media', key: sourceKey },
  });
  if (posted.status !== 202) fail(`POST /api/v1/ingests answered ${posted.status}`);
  let state;
  const deadline = Date.now() + 180_000;
  for (;;) {
    state = await (await api('GET', '/api/v1/ingests/growing')).json();
    if (state.playableAt || ['completed', 'failed'].includes(state.status)) break;
    if (Date.now() > deadline) fail(`the film never became playable: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const transcode = state.stages.find((s) => s.name === 'transcode');
  say(
    `playable ${((state.playableAt - state.createdAt) / 1000).toFixed(1)} s after the ingest started; transcode ${transcode.status} at ${transcode.progress}%`,
  );
  if (transcode.status !== 'running')
    fail(`the film was not playable before its transcode ended (${transcode.status})`);

  const tab = await browser.newPage({ viewport: { width: 700, height: 420 } });
  const query = new URLSearchParams({ gateway, token: callerToken, media: mediaId });
  await tab.goto(`${appOrigin}/?${query}`);
  // Across at least two chunk boundaries, and on until the playlists have ended.
  await tab.waitForFunction(
    (past) =>
      (document.getElementById('v').currentTime > past && window.report.levels.some((l) => !l.live)) ||
      window.report.errors.length > 0,
    2 * CHUNK_SECONDS + 2,
    { timeout: 180_000 },
  );
  const report = await tab.evaluate(() => ({
    ...window.report,
    currentTime: document.getElementById('v').currentTime,
  }));
  const ended = await (await api('GET', '/api/v1/ingests/growing')).json();
  say(
    `hls.js: admit ${report.admitStatus}, first frame at ${report.firstFrame?.toFixed(3)} s, at ${report.currentTime.toFixed(1)} s now, stalls [${report.stalls.map((s) => `${s.why} at ${s.at.toFixed(2)} s of ${s.edge.toFixed(2)} listed`).join(', ')}]; playlist loads: ${report.levels.map((l) => `${l.at.toFixed(1)}s ${l.type ?? ''} ${l.live ? 'live' : 'ended'} ${l.segments}`).join(' | ')}`,
  );
  if (report.admitStatus !== 200) fail(`admit answered ${report.admitStatus}`);
  if (report.errors.length) fail(`player errors: ${report.errors.join(', ')}`);
  const first = report.levels[0];
  if (!first?.live || first.type !== 'EVENT')
    fail('the first playlist the player saw was not a growing EVENT playlist');
  if (first.segments * 4 >= FILM_SECONDS) fail('the first playlist already held the whole film');
  if (report.firstFrame === undefined || report.firstFrame > 0.5)
    fail(`playback did not start at the beginning (${report.firstFrame})`);
  if (report.currentTime <= 2 * CHUNK_SECONDS)
    fail(`did not play across two chunk boundaries (${report.currentTime} s)`);
  // Within one segment of the edge the player is waiting for the encoder; further inside, the media
  // was listed and still could not play.
  const inside = report.stalls.filter((s) => s.at < s.edge - 4);
  if (inside.length) fail(`playback stalled inside listed media: ${JSON.stringify(inside)}`);
  if (!report.levels.some((l) => !l.live)) fail('the player never saw the playlist end');
  if (ended.stages.find((s) => s.name === 'transcode').status !== 'completed') fail('the transcode did not complete');
  say(
    `the film played from its start ${((Date.now() - submitted) / 1000).toFixed(1)} s ago; the playlists ended while it played`,
  );
  await tab.close();
  ok = true;
} finally {
  await browser.close();
  app.close();
  stop();
  await rm(dir, { recursive: true, force: true });
}
say(ok ? 'growing test passed' : 'growing test FAILED');
process.exit(ok ? 0 : 1);
