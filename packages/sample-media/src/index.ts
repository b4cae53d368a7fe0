export { makeBitmapSubtitleSample, makeSample } from './clips.js';
export type { FoundName } from './found.js';
export { FOUND_FILES, foundMedia } from './found.js';
export type { FixtureCue } from './pgs.js';
export { pgsFixture, writePgs } from './pgs.js';
