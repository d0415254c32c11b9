import { VisionopsError } from '../errors.js';
import type { Frame } from '../frame.js';
import { roundHalfEven } from '../numbers.js';

/** OpenCV's INTER_RESIZE_COEF_BITS: 8-bit images are interpolated with 11-bit integer weights. */
const WEIGHT_BITS = 11;
const WEIGHT_ONE = 1 << WEIGHT_BITS;
const ROUNDING = 1 << (2 * WEIGHT_BITS - 1);
/** 255 * 2048 * 2048 plus the rounding stays under 2^31, so the sum is an int32 and a shift divides it. */
const SHIFT_BITS = 2 * WEIGHT_BITS;

interface Taps {
  first: Int32Array;
  second: Int32Array;
  firstWeight: Int32Array;
  secondWeight: Int32Array;
}

/**
 * Per output index along one axis: the two source indices (already multiplied by `stride`) and
 * their integer weights, mapped as cv2.resize's INTER_LINEAR maps them: pixel
 * centres aligned ((d + 0.5) * source / target - 0.5), edges repeated instead of extrapolated.
 */
function axisTaps(source: number, target: number, stride: number): Taps {
  const first = new Int32Array(target);
  const second = new Int32Array(target);
  const firstWeight = new Int32Array(target);
  const secondWeight = new Int32Array(target);
  const scale = 1 / (target / source);
  for (let d = 0; d < target; d++) {
    // OpenCV computes the position in single precision; Math.fround keeps its floor and weights.
    const position = Math.fround((d + 0.5) * scale - 0.5);
    let index = Math.floor(position);
    let fraction = Math.fround(position - index);
    if (index < 0) {
      index = 0;
      fraction = 0;
    }
    if (index >= source - 1) {
      index = source - 1;
      fraction = 0;
    }
    first[d] = index * stride;
    second[d] = Math.min(index + 1, source - 1) * stride;
    // Each weight is rounded on its own (cvRound), as OpenCV does.
    firstWeight[d] = roundHalfEven(Math.fround(1 - fraction) * WEIGHT_ONE);
    secondWeight[d] = roundHalfEven(fraction * WEIGHT_ONE);
  }
  return { first, second, firstWeight, secondWeight };
}

/**
 * Bilinear resize of an 8-bit frame, as OpenCV's cv2.resize(..., INTER_LINEAR) computes it: the
 * same sample positions and 11-bit fixed-point weights, rounded the way its scalar path rounds
 * (its SIMD path can differ by one level on some samples). No anti-aliasing when shrinking, which
 * is what the PaddleOCR models saw in training. Keeps the frame's channels.
 */
export function resizeBilinear(frame: Frame, width: number, height: number): Frame {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new VisionopsError('INTERNAL', `Cannot resize to ${width} x ${height}: the target sides must be positive integers.`, { width, height });
  }
  const { channels, data } = frame;
  if (frame.width === width && frame.height === height) {
    return { width, height, channels, data: new Uint8Array(data) };
  }
  const columns = axisTaps(frame.width, width, channels);
  const rows = axisTaps(frame.height, height, frame.width * channels);
  const out = new Uint8Array(width * height * channels);

  for (let y = 0, o = 0; y < height; y++) {
    const top = rows.first[y];
    const bottom = rows.second[y];
    const above = rows.firstWeight[y];
    const below = rows.secondWeight[y];
    for (let x = 0; x < width; x++) {
      const left = columns.first[x];
      const right = columns.second[x];
      const leftWeight = columns.firstWeight[x];
      const rightWeight = columns.secondWeight[x];
      for (let c = 0; c < channels; c++, o++) {
        const upper = data[top + left + c] * leftWeight + data[top + right + c] * rightWeight;
        const lower = data[bottom + left + c] * leftWeight + data[bottom + right + c] * rightWeight;
        out[o] = (upper * above + lower * below + ROUNDING) >> SHIFT_BITS;
      }
    }
  }
  return { width, height, channels, data: out };
}
