export { DEFAULT_AUDIO, measureArgs } from './audio.js';
export { chunkArgs, planChunks } from './chunks.js';
export { parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
export { LADDER, planLadder } from './ladder.js';
export { videoSettings } from './settings.js';
export { classifySubtitle, subtitleLabel, subtitles } from './subtitles.js';
export { publishGrowing, runTranscodePart, transcode, transcodePart } from './transcode.js';
export { trickplay } from './trickplay.js';
