/**
 * The development player (`DEV_PLAYER=true`): signs in with a dev token,
 * admits like the web client, plays with hls.js (served from npm by this
 * gateway, no CDN), offers the audio and subtitle tracks, shows trickplay
 * thumbnails over the seek bar, heartbeats every 60 s and ends the session
 * when the page closes. `window.player` exposes its state to tests.
 */
export const PLAYER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nself-tv dev player</title>
<style>
  body { font: 14px system-ui, sans-serif; background: #111; color: #eee; margin: 24px; }
  #stage { position: relative; width: 960px; max-width: 100%; }
  video { width: 100%; background: #000; display: block; }
  #bar { position: relative; height: 28px; margin-top: 8px; }
  #seek { width: 100%; height: 28px; margin: 0; }
  #thumb { position: absolute; bottom: 34px; display: none; border: 2px solid #fff; background-repeat: no-repeat;
    box-shadow: 0 2px 8px #000; pointer-events: none; }
  #thumb span { position: absolute; bottom: 2px; left: 4px; font-size: 12px; text-shadow: 0 0 3px #000; }
  .row { margin: 8px 0; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  #status { color: #9c9; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
  label { color: #aaa; }
</style>
</head>
<body>
<h1>nself-tv dev player</h1>
<div class="row">
  <label>media id <input id="media" size="32"></label>
  <button id="play">Sign in, admit and play</button>
  <button id="stop">End session</button>
</div>
<div id="stage">
  <video id="video" controls playsinline></video>
  <div id="bar"><input id="seek" type="range" min="0" max="1000" value="0"><div id="thumb"><span></span></div></div>
</div>
<div class="row">
  <label>audio <select id="audio"></select></label>
  <label>subtitles <select id="subs"><option value="-1">off</option></select></label>
</div>
<div id="status"></div>
<script src="/dev/player/hls.min.js"></script>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const heartbeatMs = Number(params.get('heartbeat') || 60) * 1000;
  const video = $('video');
  const state = window.player = { sessionId: null, mediaUrl: null, heartbeats: 0, thumbnails: [], errors: [], ended: false };
  const log = (line) => { $('status').textContent += line + '\\n'; };
  $('media').value = params.get('media') || '';
  let jwt = null, hls = null, timer = null;
  const deviceId = localStorage.getItem('nself-device') || crypto.randomUUID();
  localStorage.setItem('nself-device', deviceId);

  const api = (method, path, body) => fetch(path, {
    method, keepalive: method === 'DELETE',
    headers: { authorization: 'Bearer ' + jwt, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  function vttTime(t) { const [h, m, s] = t.split(':'); return Number(h) * 3600 + Number(m) * 60 + Number(s); }
  async function loadTrickplay(url) {
    const text = await (await fetch(url)).text();
    const base = url.slice(0, url.lastIndexOf('/') + 1);
    for (const block of text.split(/\\n\\n+/)) {
      const m = /(\\S+) --> (\\S+)\\n(\\S+)#xywh=(\\d+),(\\d+),(\\d+),(\\d+)/.exec(block);
      if (m) state.thumbnails.push({ start: vttTime(m[1]), end: vttTime(m[2]), url: base + m[3], x: +m[4], y: +m[5], w: +m[6], h: +m[7] });
    }
    log('trickplay: ' + state.thumbnails.length + ' thumbnails');
  }

  function showThumb(event) {
    const rect = $('seek').getBoundingClientRect();
    const at = Math.max(0, Math.min(1, (event.clientX - rect.left) / rect.width)) * (video.duration || 0);
    const cue = state.thumbnails.find((c) => at >= c.start && at < c.end) || state.thumbnails.at(-1);
    const thumb = $('thumb');
    if (!cue) { thumb.style.display = 'none'; return; }
    thumb.style.display = 'block';
    thumb.style.width = cue.w + 'px';
    thumb.style.height = cue.h + 'px';
    thumb.style.backgroundImage = 'url("' + cue.url + '")';
    thumb.style.backgroundPosition = '-' + cue.x + 'px -' + cue.y + 'px';
    thumb.style.left = Math.max(0, Math.min(rect.width - cue.w, event.clientX - rect.left - cue.w / 2)) + 'px';
    thumb.querySelector('span').textContent = new Date(at * 1000).toISOString().slice(11, 19);
    state.hoveredThumbnail = cue.url + '#' + cue.x + ',' + cue.y;
  }
  $('seek').addEventListener('mousemove', showThumb);
  $('seek').addEventListener('mouseleave', () => { $('thumb').style.display = 'none'; });
  $('seek').addEventListener('input', () => { if (video.duration) video.currentTime = $('seek').value / 1000 * video.duration; });
  video.addEventListener('timeupdate', () => { if (video.duration) $('seek').value = Math.round(video.currentTime / video.duration * 1000); });

  async function end() {
    if (!state.sessionId || state.ended) return;
    state.ended = true;
    clearInterval(timer);
    await api('DELETE', '/api/v1/session/' + state.sessionId).catch(() => undefined);
    log('session ended');
  }
  $('stop').onclick = () => { end(); if (hls) hls.stopLoad(); };
  addEventListener('pagehide', () => { end(); });

  $('play').onclick = async () => {
    const family = params.get('family');
    jwt = (await (await fetch('/dev/token' + (family ? '?family=' + encodeURIComponent(family) : ''), { method: 'POST' })).json()).token;
    const res = await api('POST', '/api/v1/admit', { mediaId: $('media').value, deviceId, userRole: 'user', contentRating: 'NR' });
    const body = await res.json();
    if (res.status !== 200) { log('admit: ' + res.status + ' ' + body.error + ': ' + body.message); state.errors.push(body); return; }
    Object.assign(state, { sessionId: body.data.sessionId, mediaUrl: body.data.mediaUrl, ended: false });
    log('admitted: session ' + state.sessionId);
    timer = setInterval(async () => {
      const r = await api('POST', '/api/v1/heartbeat/' + state.sessionId);
      state.heartbeats += r.status === 200 ? 1 : 0;
      if (r.status !== 200) log('heartbeat: ' + r.status);
    }, heartbeatMs);
    loadTrickplay(body.data.trickplayUrl).catch((e) => log('trickplay: ' + e.message));
    hls = new Hls({ subtitleDisplay: true });
    hls.on(Hls.Events.ERROR, (_e, data) => { if (data.fatal) { state.errors.push(data.details); log('hls: ' + data.details); } });
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => {
      $('audio').innerHTML = hls.audioTracks.map((t, i) => '<option value="' + i + '">' + t.name + (t.lang ? ' (' + t.lang + ')' : '') + '</option>').join('');
      $('audio').value = String(Math.max(0, hls.audioTrack));
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => {
      $('subs').innerHTML = '<option value="-1">off</option>' + hls.subtitleTracks.map((t, i) => '<option value="' + i + '">' + t.name + (t.lang ? ' (' + t.lang + ')' : '') + '</option>').join('');
    });
    $('audio').onchange = () => { hls.audioTrack = Number($('audio').value); };
    $('subs').onchange = () => { hls.subtitleTrack = Number($('subs').value); hls.subtitleDisplay = true; };
    hls.loadSource(state.mediaUrl);
    hls.attachMedia(video);
    window.hls = hls;
    video.muted = true;
    await video.play().catch((e) => log('play: ' + e.message));
  };
  if (params.get('autoplay') === '1' && $('media').value) $('play').onclick();
})();
</script>
</body>
</html>
`;
