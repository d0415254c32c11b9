import type { QualityConfig } from './config.js';
import type { LetterSizes } from './letters.js';
import type { QualityCheck } from './types.js';

export const TOO_SMALL = 'The image is too small: move closer or use a higher resolution.';
export const TEXT_TOO_SMALL = 'The text is too small to read: move closer so the text fills more of the frame, or use a higher resolution.';
export const TOO_NARROW = 'The image is unusually long and narrow: check that the whole document is in the frame.';

/**
 * Whether the text is large enough in pixels to be read: the size of its letters decides, not the
 * size of the frame, so a 320 x 180 crop holding one large word passes and a page shrunk to a
 * thumbnail fails. Letters are judged only where enough letter-like marks were found (a
 * photograph, a label with three letters, say nothing); the frame itself fails only under a
 * floor too small to hold a line. An extreme aspect ratio only warns: long receipts are real.
 * Score: the height of the print in pixels, or the short side when too few letters were found.
 */
export function checkResolution(width: number, height: number, letters: LetterSizes, config: QualityConfig['resolution']): QualityCheck {
  const shortSide = Math.min(width, height);
  const pixels = width * height;
  const aspectRatio = Math.max(width, height) / Math.max(1, shortSide);
  const judged = letters.count >= config.minLetters;
  const details = { width, height, pixels, aspectRatio, letterSize: letters.size, textHeight: letters.height, letters: letters.count };
  if (shortSide < config.minShortSide || pixels < config.minPixels) {
    return { name: 'resolution', score: shortSide, threshold: config.minShortSide, details, verdict: 'fail', guidance: TOO_SMALL };
  }
  const base = { name: 'resolution', score: judged ? letters.height : shortSide, threshold: judged ? config.minTextHeight : config.minShortSide, details };
  if (judged && letters.height < config.minTextHeight) return { ...base, verdict: 'fail', guidance: TEXT_TOO_SMALL };
  if (aspectRatio > config.maxAspectRatio) return { ...base, verdict: 'warn', guidance: TOO_NARROW };
  return { ...base, verdict: 'pass', guidance: null };
}
