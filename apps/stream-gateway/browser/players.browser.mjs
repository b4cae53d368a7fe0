// `pnpm test:browser`: two independent HLS players (hls.js and shaka-player, from npm) in Debian's
// chromium, in a web app served from another origin than the gateway (CORS_ORIGINS), play a real
// ingest of a source made here the way web rips carry films (23.976 fps, B-frames, 5.1 AC-3, so
// the master also lists AC-3 variants beside the stereo AAC ones, and subtitles at odd times), and
// each subtitle cue must start at the source's time on the video's
// own clock, within one frame. Not part of `npm test`: it needs chromium.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, ensureChromium, freePort } from '@nself-tv/test-redis';
import { chromium } from 'playwright-core';
import { callerTokenFor, keptDemo } from './kept-demo.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const results = join(here, '..', 'browser-results');
const require = createRequire(import.meta.url);
const say = (line) => console.log(`[players] ${line}`);
const fail = (message) => {
  throw new Error(message);
};
const CHROMIUM = ensureChromium(say);
const FPS = 24000 / 1001;
const FRAME = 1 / FPS;
// Cue times of the source, away from segment and second boundaries.
const CUES = [
  { start: 2.345, end: 4.1, text: 'First line of dialogue' },
  { start: 7.891, end: 9.5, text: 'Second line, later' },
];

const dir = await mkdtemp(join(tmpdir(), 'nself-players-'));
const srtTime = (t) => {
  const ms = Math.round(t * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`;
};
await writeFile(
  join(dir, 'dialogue.srt'),
  CUES.map((c, i) => `${i + 1}\n${srtTime(c.start)} --> ${srtTime(c.end)}\n${c.text}\n`).join('\n'),
);
const source = join(dir, 'phone-clip.mkv');
const made = spawnSync('ffmpeg', [
  ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=24000/1001:duration=14`],
  ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=14:sample_rate=48000', '-i', join(dir, 'dialogue.srt')],
  ...['-map', '0:v', '-map', '1:a', '-map', '2:s', '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3'],
  // 5.1 AC-3, as web rips carry it: the master then also lists AC-3 variants (group audio-mc),
  // which these browsers cannot decode, and the players must keep to the stereo AAC ones.
  ...['-c:a', 'ac3', '-ac', '6', '-b:a', '384k', '-c:s', 'srt', '-metadata:s:s:0', 'language=eng', source],
]);
if (made.status !== 0) fail(`could not make the source: ${made.stderr}`);
// What the source says, read back by ffmpeg (not our numbers): the cue starts as muxed.
const probed = spawnSync('ffprobe', [
  ...['-v', 'error', '-select_streams', 's:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', source],
]);
const sourceStarts = probed.stdout
  .toString()
  .split('\n')
  .map((l) => Number.parseFloat(l))
  .filter(Number.isFinite);
const sourceVideoStart = Number.parseFloat(
  spawnSync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=start_time',
    '-of',
    'csv=p=0',
    source,
  ])
    .stdout.toString()
    .trim(),
);
say(`source: first video frame at ${sourceVideoStart} s, cue starts ${sourceStarts.join(', ')} s (ffprobe)`);

// The web app's own origin: another port than the gateway's.
const appPort = await freePort();
const appOrigin = `http://127.0.0.1:${appPort}`;
say(`running the demo on ${source} with CORS_ORIGINS=${appOrigin}`);
const { running, gateway, stop: stopAll } = await keptDemo(join(dir, 'demo'), [source], { CORS_ORIGINS: appOrigin });

// The stored master offers the surround set too, so the players are choosing, not just playing.
const masters = (await readdir(join(dir, 'demo'), { recursive: true })).filter((p) => p.endsWith('master.m3u8'));
const masterText = masters.length ? await readFile(join(dir, 'demo', masters[0]), 'utf8') : '';
if (!/CODECS="avc1\.[0-9a-f]{6},ac-3".*AUDIO="audio-mc"/.test(masterText))
  fail(`the master lists no AC-3 variants:\n${masterText}`);
say(
  `master: ${masterText.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF')).length} variants, AC-3 ones among them`,
);

// The family's caller token, as the web app would hold it.
const callerToken = await callerTokenFor(running);

const PLAYERS = {
  hlsjs: require.resolve('hls.js/dist/hls.min.js'),
  shaka: require.resolve('shaka-player/dist/shaka-player.compiled.js'),
};
const page = (player) => `<!doctype html><meta charset="utf-8"><title>${player}</title>
<video id="v" muted playsinline width="640" height="360"></video>
<script src="/${player}.js"></script>
<script>
window.report = { player: ${JSON.stringify(player)}, frames: [], errors: [] };
(async () => {
  const params = new URLSearchParams(location.search);
  // The web client's admit, from this origin: a preflight for Authorization and JSON.
  const admit = await fetch(params.get('gateway') + '/api/v1/admit', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + params.get('token'), 'content-type': 'application/json' },
    body: JSON.stringify({ mediaId: params.get('media'), deviceId: crypto.randomUUID() }),
  });
  report.admitStatus = admit.status;
  report.requestId = admit.headers.get('x-request-id');
  const { data } = await admit.json();
  const video = document.getElementById('v');
  // Playback starts once the first frame is on screen: a paused element always paints the frame it
  // has loaded, while a playing one on a busy machine may skip the first few, whose times the cue
  // check is measured from.
  const start = () => video.play().catch((e) => report.errors.push('play ' + e.message));
  const onFrame = (_now, meta) => {
    report.frames.push(meta.mediaTime);
    if (report.frames.length === 1) start();
    if (report.frames.length < 200) video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  if (report.player === 'hlsjs') {
    const hls = new Hls({ subtitleDisplay: true });
    hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) report.errors.push(d.details); });
    // Turned on as a viewer would, once playback has begun.
    hls.once(Hls.Events.FRAG_BUFFERED, () => { hls.subtitleTrack = 0; hls.subtitleDisplay = true; });
    hls.loadSource(data.mediaUrl);
    hls.attachMedia(video);
  } else {
    shaka.polyfill.installAll();
    const player = new shaka.Player();
    await player.attach(video);
    player.addEventListener('error', (e) => report.errors.push(String(e.detail && e.detail.code)));
    try {
      await player.load(data.mediaUrl);
      const text = player.getTextTracks()[0];
      if (text) player.selectTextTrack(text);
      if (player.setTextTrackVisibility) await player.setTextTrackVisibility(true);
    } catch (e) { report.errors.push('load ' + (e && (e.code + ' ' + e.message + ' ' + JSON.stringify(e.data || [])))); }
  }
  // No first frame at all within 30 s: play anyway, so the failure shows as what the player does.
  setTimeout(() => { if (report.frames.length === 0) start(); }, 30000);
})().catch((e) => report.errors.push(String(e)));
</script>`;
const app = createServer((req, res) => {
  const url = new URL(req.url, appOrigin);
  const name = url.pathname.slice(1).replace(/\.(js|html)$/, '');
  if (url.pathname.endsWith('.js') && PLAYERS[name]) {
    res.setHeader('content-type', 'text/javascript');
    return res.end(readFileSync(PLAYERS[name]));
  }
  if (url.pathname.endsWith('.html') && PLAYERS[name]) {
    res.setHeader('content-type', 'text/html');
    return res.end(page(name));
  }
  res.statusCode = 404;
  res.end();
});
await new Promise((ok) => app.listen(appPort, '127.0.0.1', ok));

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
});
let ok = false;
try {
  await mkdir(results, { recursive: true });
  for (const player of Object.keys(PLAYERS)) {
    const tab = await browser.newPage({ viewport: { width: 700, height: 420 } });
    const corsErrors = [];
    tab.on('console', (m) => {
      if (/CORS|Access-Control/i.test(m.text())) corsErrors.push(m.text());
    });
    const query = new URLSearchParams({ gateway, token: callerToken, media: running.mediaId });
    await tab.goto(`${appOrigin}/${player}.html?${query}`);
    // Play through both cues.
    await tab
      .waitForFunction(() => document.getElementById('v').currentTime > 10 || window.report.errors.length > 0, null, {
        timeout: 90_000,
      })
      .catch(() => undefined);
    const report = await tab.evaluate(() => {
      const video = document.getElementById('v');
      const cues = [];
      const tracks = [];
      for (const track of video.textTracks) {
        tracks.push(`${track.kind}/${track.label}/${track.mode}/${track.cues?.length ?? 'null'}`);
        for (const cue of track.cues ?? []) cues.push({ start: cue.startTime, end: cue.endTime, text: cue.text });
      }
      const buffered = video.buffered.length ? video.buffered.start(0) : undefined;
      return { ...window.report, currentTime: video.currentTime, cues, tracks, buffered };
    });
    await tab.screenshot({ path: join(results, `cross-origin-${player}.png`) });
    say(
      `${player}: admit ${report.admitStatus} from ${appOrigin}, played to ${report.currentTime.toFixed(2)} s, first frame at ${report.frames[0]?.toFixed(3)} s, cues ${report.cues.map((c) => `${c.start.toFixed(3)} "${c.text}"`).join(', ')}`,
    );
    say(
      `${player}: text tracks ${report.tracks.join(' | ')}; buffered from ${report.buffered}; frames ${report.frames
        .slice(0, 4)
        .map((f) => f.toFixed(3))
        .join(' ')}`,
    );
    if (report.admitStatus !== 200) fail(`${player}: the cross-origin admit answered ${report.admitStatus}`);
    if (!report.requestId) fail(`${player}: x-request-id is not exposed to the web app`);
    if (corsErrors.length) fail(`${player}: CORS errors: ${corsErrors.join('; ')}`);
    if (report.errors.length) fail(`${player}: player errors: ${report.errors.join(', ')}`);
    if (report.currentTime <= 10) fail(`${player}: did not play past 10 s`);
    // The video's clock: its first frame is the source's first frame, at 0.
    const firstFrame = Math.min(...report.frames);
    for (const [i, want] of CUES.entries()) {
      const cue = report.cues.find((c) => c.text.includes(want.text));
      if (!cue) fail(`${player}: no cue "${want.text}"`);
      // Both measured from the first video frame: the source's by ffprobe, the player's on the video element.
      const expected = (sourceStarts[i] ?? want.start) - sourceVideoStart;
      const shown = cue.start - firstFrame;
      const off = shown - expected;
      say(
        `${player}: "${want.text}" at ${shown.toFixed(3)} s after the first frame; in the source ${expected.toFixed(3)} s (${(off * 1000).toFixed(1)} ms)`,
      );
      if (Math.abs(off) > FRAME)
        fail(`${player}: cue "${want.text}" is ${(off * 1000).toFixed(0)} ms off (more than one frame)`);
    }
    await tab.close();
  }
  ok = true;
} finally {
  await browser.close();
  app.close();
  stopAll();
  await rm(dir, { recursive: true, force: true });
}
say(ok ? 'players test passed' : 'players test FAILED');
process.exit(ok ? 0 : 1);
