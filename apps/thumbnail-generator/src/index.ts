export type { OutputFormat } from './encode.js';
export { encodeAs, extensionOf } from './encode.js';
export type { ImageLimits, SourceImage } from './image-input.js';
export { DEFAULT_IMAGE_LIMITS, loadImage } from './image-input.js';
export { optimize } from './optimize.js';
export { poster } from './poster.js';
export { imageSettings } from './settings.js';
export { sprite } from './sprite.js';
