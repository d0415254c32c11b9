import type { Frame } from '../frame.js';
import { resizeArea, resizeBilinear, resizeNearest } from './resize.js';
import { resizePil } from './resize-pil.js';
import type { Interpolation } from './spec.js';

/** Resizes with the named library's resampling; OpenCV's INTER_LINEAR when none is named. */
export function resizeWith(frame: Frame, width: number, height: number, interpolation: Interpolation = 'opencv-linear'): Frame {
  switch (interpolation) {
    case 'opencv-linear':
      return resizeBilinear(frame, width, height);
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
