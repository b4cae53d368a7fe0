export { makeBitmapSubtitleSample, makeSample } from './clips.js';
export type { FixtureCue } from './pgs.js';
export { pgsFixture, writePgs } from './pgs.js';
