export { run, ToolError, tools } from './ffmpeg.js';
export { parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
export { LADDER, planLadder } from './ladder.js';
export { probe } from './probe.js';
export { classifySubtitle, subtitleLabel, subtitles } from './subtitles.js';
export { transcode, transcodeArgs } from './transcode.js';
export { trickplay } from './trickplay.js';
export { thumbnailVtt, tilePosition, vttTime } from './vtt.js';
