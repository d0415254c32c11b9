import type { Frame } from '../frame.js';
import { resizeArea, resizeBilinear, resizeLinearExact, resizeNearest } from './resize.js';
import { resizePil } from './resize-pil.js';
import type { Interpolation } from './spec.js';

/**
 * Resizes with the named library's resampling. None named is the built-in models' resize:
 * OpenCV's INTER_LINEAR positions and weights with its scalar rounding throughout, which differs
 * from 'opencv-linear' by one level on some samples and stays so their tensors do not change.
 */
export function resizeWith(frame: Frame, width: number, height: number, interpolation?: Interpolation): Frame {
  switch (interpolation) {
    case undefined:
      return resizeBilinear(frame, width, height);
    case 'opencv-linear':
      return resizeLinearExact(frame, width, height);
    case 'opencv-area':
      return resizeArea(frame, width, height);
    case 'opencv-nearest':
      return resizeNearest(frame, width, height);
    case 'pil-bilinear':
      return resizePil(frame, width, height, 'bilinear');
    case 'pil-bicubic':
      return resizePil(frame, width, height, 'bicubic');
  }
}
