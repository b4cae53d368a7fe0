import { defineSettings, wholeNumber } from '@nself-tv/service/settings';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image-input.js';

/** The thumbnail-generator's own variables: the bounds of a source image. */
export const imageSettings = defineSettings(
  'thumbnail-generator',
  {
    MAX_INPUT_PIXELS: wholeNumber(1, 1_000_000_000)
      .default(DEFAULT_IMAGE_LIMITS.maxInputPixels)
      .meta({ description: 'Largest source image, width x height as declared (decompression bombs).' }),
  },
  (v): ImageLimits => ({ ...DEFAULT_IMAGE_LIMITS, maxInputPixels: v.MAX_INPUT_PIXELS }),
);
