export type { RunOptions } from './ffmpeg.js';
export { run, ToolError, tools } from './ffmpeg.js';
export { keyUnder } from './keys.js';
export type { MediaInfo } from './probe.js';
export { probe } from './probe.js';
export { makeBitmapSubtitleSample, makeSample } from './sample-media.js';
export type { Grid } from './vtt.js';
export { thumbnailVtt, tilePosition, vttTime } from './vtt.js';
