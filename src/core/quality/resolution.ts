import type { QualityConfig } from './config.js';
import type { QualityCheck } from './types.js';

export const TOO_SMALL = 'The image is too small: move closer or use a higher resolution.';
export const TOO_NARROW = 'The image is unusually long and narrow: check that the whole document is in the frame.';

/**
 * Size in pixels: a short side or a pixel count below the minimum fails, because small print
 * cannot be read back once it is gone. An extreme aspect ratio only warns: long receipts are real.
 */
export function checkResolution(width: number, height: number, config: QualityConfig['resolution']): QualityCheck {
  const shortSide = Math.min(width, height);
  const pixels = width * height;
  const aspectRatio = Math.max(width, height) / Math.max(1, shortSide);
  const details = { width, height, pixels, aspectRatio };
  const base = { name: 'resolution', score: shortSide, threshold: config.minShortSide, details };
  if (shortSide < config.minShortSide || pixels < config.minPixels) {
    return { ...base, verdict: 'fail', guidance: TOO_SMALL };
  }
  if (aspectRatio > config.maxAspectRatio) return { ...base, verdict: 'warn', guidance: TOO_NARROW };
  return { ...base, verdict: 'pass', guidance: null };
}
