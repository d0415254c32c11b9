import { VisionopsError } from '../errors.js';
import type { Frame } from '../frame.js';
import { roundHalfEven } from '../rounding.js';

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
 * `areaMode` maps them as INTER_AREA does when it enlarges, which OpenCV emulates with the same
 * two-tap kernel: each output pixel takes the source pixel its left edge falls in, blended with
 * the next by how far the output pixel's right edge reaches past it. Without `edgeWeightsZeroed`,
 * a position beyond the edge keeps its weights and both taps read the edge pixel, as OpenCV's
 * rows do (its columns zero the weights); the sum is the same but its rounding is not.
 */
function axisTaps(source: number, target: number, stride: number, areaMode = false, edgeWeightsZeroed = true): Taps {
  const first = new Int32Array(target);
  const second = new Int32Array(target);
  const firstWeight = new Int32Array(target);
  const secondWeight = new Int32Array(target);
  const inverseScale = target / source;
  const scale = 1 / inverseScale;
  for (let d = 0; d < target; d++) {
    let index: number;
    let fraction: number;
    if (areaMode) {
      index = Math.floor(d * scale);
      fraction = Math.fround(d + 1 - (index + 1) * inverseScale);
      fraction = fraction <= 0 ? 0 : Math.fround(fraction - Math.floor(fraction));
    } else {
      // OpenCV computes the position in single precision; Math.fround keeps its floor and weights.
      const position = Math.fround((d + 0.5) * scale - 0.5);
      index = Math.floor(position);
      fraction = Math.fround(position - index);
    }
    if (edgeWeightsZeroed && (index < 0 || index >= source - 1)) {
      index = Math.min(Math.max(index, 0), source - 1);
      fraction = 0;
    }
    first[d] = Math.min(Math.max(index, 0), source - 1) * stride;
    second[d] = Math.min(Math.max(index + 1, 0), source - 1) * stride;
    // Each weight is rounded on its own (cvRound), as OpenCV does.
    firstWeight[d] = roundHalfEven(Math.fround(1 - fraction) * WEIGHT_ONE);
    secondWeight[d] = roundHalfEven(fraction * WEIGHT_ONE);
  }
  return { first, second, firstWeight, secondWeight };
}

export function checkTargetSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new VisionopsError('INTERNAL', `Cannot resize to ${width} x ${height}: the target sides must be positive integers.`, { width, height });
  }
}

/**
 * Bilinear resize of an 8-bit frame, as OpenCV's cv2.resize(..., INTER_LINEAR) computes it: the
 * same sample positions and 11-bit fixed-point weights, rounded the way its scalar path rounds
 * (its SIMD path can differ by one level on some samples). No anti-aliasing when shrinking, which
 * is what the PaddleOCR models saw in training. Keeps the frame's channels.
 */
export function resizeBilinear(frame: Frame, width: number, height: number): Frame {
  checkTargetSize(width, height);
  if (frame.width === width && frame.height === height) {
    return { width, height, channels: frame.channels, data: new Uint8Array(frame.data) };
  }
  return twoTapResize(frame, width, height, false, false);
}

/**
 * Bilinear resize that matches cv2.resize's INTER_LINEAR sample for sample, its vector code's
 * rounding included (the default `resizeBilinear` rounds every sample as OpenCV's scalar code
 * does, which is how the built-in models have been fed).
 */
export function resizeLinearExact(frame: Frame, width: number, height: number): Frame {
  checkTargetSize(width, height);
  if (frame.width === width && frame.height === height) {
    return { width, height, channels: frame.channels, data: new Uint8Array(frame.data) };
  }
  return twoTapResize(frame, width, height, false, true);
}

function twoTapResize(frame: Frame, width: number, height: number, areaMode: boolean, vectorRounding: boolean): Frame {
  const columns = axisTaps(frame.width, width, frame.channels, areaMode);
  const rows = axisTaps(frame.height, height, frame.width * frame.channels, areaMode, !vectorRounding);
  return blend(frame, width, height, columns, rows, vectorRounding ? VECTOR_ROUNDING : SCALAR_ROUNDING);
}

/**
 * Which low bits of each horizontal sum, and of each sum times its row weight, the vertical blend
 * drops before the rounding shift. Masks rather than a choice made per sample (a branch or a
 * function call), which made the built-in models' resize 1.5 times slower, and rather than shifts
 * by a variable amount, which cost more than the masks.
 */
interface VerticalRounding {
  sumMask: number;
  productMask: number;
}

/** OpenCV's scalar code: every bit kept, the full 22-bit fixed-point sum rounded once. */
const SCALAR_ROUNDING: VerticalRounding = { sumMask: -1, productMask: -1 };

/**
 * OpenCV's vector code (VResizeLinearVec_32s8u): both horizontal sums shifted right by 4 to fit
 * 16 bits, each product's high half kept (v_mul_hi), then a rounding shift by 2. Dropping the
 * low 4 bits of a sum and the low 20 of its product (4 + 16) and then rounding by 22 bits gives
 * the same level. OpenCV 4.6 on x86 (Debian 12) rounds every sample of every row so, rows of 3
 * samples included (test/fixtures/parity: 14 sizes from 1 x 1 to 73 x 53, up and down).
 */
const VECTOR_ROUNDING: VerticalRounding = { sumMask: ~0xf, productMask: ~0xfffff };

/** The two-tap blend both roundings share; the level saturates at 255 as OpenCV's does. */
function blend(frame: Frame, width: number, height: number, columns: Taps, rows: Taps, rounding: VerticalRounding): Frame {
  const { channels, data } = frame;
  const { sumMask, productMask } = rounding;
  const { first: lefts, second: rights, firstWeight: leftWeights, secondWeight: rightWeights } = columns;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0, o = 0; y < height; y++) {
    const top = rows.first[y];
    const bottom = rows.second[y];
    const above = rows.firstWeight[y];
    const below = rows.secondWeight[y];
    for (let x = 0; x < width; x++) {
      const topLeft = top + lefts[x];
      const topRight = top + rights[x];
      const bottomLeft = bottom + lefts[x];
      const bottomRight = bottom + rights[x];
      const leftWeight = leftWeights[x];
      const rightWeight = rightWeights[x];
      for (let c = 0; c < channels; c++, o++) {
        const upper = data[topLeft + c] * leftWeight + data[topRight + c] * rightWeight;
        const lower = data[bottomLeft + c] * leftWeight + data[bottomRight + c] * rightWeight;
        const value = ((((upper & sumMask) * above) & productMask) + (((lower & sumMask) * below) & productMask) + ROUNDING) >> SHIFT_BITS;
        out[o] = value > 255 ? 255 : value;
      }
    }
  }
  return { width, height, channels, data: out };
}

/**
 * Nearest-neighbour resize as cv2.resize(..., INTER_NEAREST) picks its samples: output pixel d
 * takes source floor(d * source / target), the top-left of its cell (not the centre, which is
 * OpenCV's INTER_NEAREST_EXACT and PIL's NEAREST).
 */
export function resizeNearest(frame: Frame, width: number, height: number): Frame {
  checkTargetSize(width, height);
  const { channels, data } = frame;
  const columnStep = 1 / (width / frame.width);
  const rowStep = 1 / (height / frame.height);
  const columns = new Int32Array(width);
  for (let x = 0; x < width; x++) columns[x] = Math.min(Math.floor(x * columnStep), frame.width - 1) * channels;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0, o = 0; y < height; y++) {
    const row = Math.min(Math.floor(y * rowStep), frame.height - 1) * frame.width * channels;
    for (let x = 0; x < width; x++) {
      const p = row + columns[x];
      for (let c = 0; c < channels; c++, o++) out[o] = data[p + c];
    }
  }
  return { width, height, channels, data: out };
}

/**
 * Area resize as cv2.resize(..., INTER_AREA) computes it: when both sides shrink, each output
 * pixel is the mean of the source pixels its cell covers (partly covered pixels weighted by the
 * part); when either side grows, OpenCV falls back to a two-tap blend, reproduced here too.
 */
export function resizeArea(frame: Frame, width: number, height: number): Frame {
  checkTargetSize(width, height);
  if (frame.width === width && frame.height === height) {
    return { width, height, channels: frame.channels, data: new Uint8Array(frame.data) };
  }
  const scaleX = frame.width / width;
  const scaleY = frame.height / height;
  if (scaleX < 1 || scaleY < 1) return twoTapResize(frame, width, height, true, true);
  if (Number.isInteger(scaleX) && Number.isInteger(scaleY)) return blockMean(frame, width, height, scaleX, scaleY);
  return coverageMean(frame, width, height, scaleX, scaleY);
}

/** INTER_AREA's fast path for whole-number factors: the mean of each block of source pixels. */
function blockMean(frame: Frame, width: number, height: number, factorX: number, factorY: number): Frame {
  const { channels, data } = frame;
  const area = factorX * factorY;
  const inverseArea = Math.fround(1 / area);
  const sourceRow = frame.width * channels;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const corner = y * factorY * sourceRow + x * factorX * channels;
      for (let c = 0; c < channels; c++, o++) {
        let sum = 0;
        for (let dy = 0; dy < factorY; dy++) {
          for (let dx = 0, p = corner + dy * sourceRow + c; dx < factorX; dx++, p += channels) sum += data[p];
        }
        // OpenCV's vector code for 2 x 2 adds 2 and shifts (halves up); its scalar code multiplies
        // by 1 / area in single precision and rounds halves to even.
        out[o] = area === 4 ? (sum + 2) >> 2 : roundHalfEven(Math.fround(sum * inverseArea));
      }
    }
  }
  return { width, height, channels, data: out };
}

interface CoverageTable {
  target: Int32Array;
  source: Int32Array;
  weight: Float32Array;
}

/**
 * OpenCV's computeResizeAreaTab: for each output cell [d * scale, (d + 1) * scale), the source
 * pixels it overlaps and the share of the cell each one covers, in single precision.
 */
function coverageTable(source: number, target: number, scale: number): CoverageTable {
  const targets: number[] = [];
  const sources: number[] = [];
  const weights: number[] = [];
  for (let d = 0; d < target; d++) {
    const start = d * scale;
    const end = start + scale;
    const cell = Math.min(scale, source - start);
    const last = Math.min(Math.floor(end), source - 1);
    const first = Math.min(Math.ceil(start), last);
    const add = (s: number, weight: number) => {
      targets.push(d);
      sources.push(s);
      weights.push(weight);
    };
    if (first - start > 1e-3) add(first - 1, (first - start) / cell);
    for (let s = first; s < last; s++) add(s, 1 / cell);
    if (end - last > 1e-3) add(last, Math.min(end - last, 1, cell) / cell);
  }
  return { target: Int32Array.from(targets), source: Int32Array.from(sources), weight: Float32Array.from(weights) };
}

/**
 * INTER_AREA for fractional factors, as OpenCV's ResizeArea_Invoker runs it in single precision:
 * each source row is reduced horizontally, and the reduced rows are accumulated into the output
 * row they cover; an output row is rounded (halves to even) once its last source row is in.
 */
function coverageMean(frame: Frame, width: number, height: number, scaleX: number, scaleY: number): Frame {
  const { channels, data } = frame;
  const columns = coverageTable(frame.width, width, scaleX);
  const rows = coverageTable(frame.height, height, scaleY);
  const rowLength = width * channels;
  const reduced = new Float32Array(rowLength);
  const sum = new Float32Array(rowLength);
  const out = new Uint8Array(height * rowLength);
  const flush = (y: number) => {
    for (let i = 0; i < rowLength; i++) out[y * rowLength + i] = Math.min(255, Math.max(0, roundHalfEven(sum[i])));
  };
  let currentRow = rows.target[0];
  for (let j = 0; j < rows.target.length; j++) {
    const beta = rows.weight[j];
    const sourceRow = rows.source[j] * frame.width * channels;
    reduced.fill(0);
    for (let k = 0; k < columns.target.length; k++) {
      const alpha = columns.weight[k];
      const to = columns.target[k] * channels;
      const from = sourceRow + columns.source[k] * channels;
      reduced[to] += Math.fround(data[from] * alpha);
      reduced[to + 1] += Math.fround(data[from + 1] * alpha);
      reduced[to + 2] += Math.fround(data[from + 2] * alpha);
      if (channels === 4) reduced[to + 3] += Math.fround(data[from + 3] * alpha);
    }
    if (rows.target[j] !== currentRow) {
      flush(currentRow);
      for (let i = 0; i < rowLength; i++) sum[i] = Math.fround(beta * reduced[i]);
      currentRow = rows.target[j];
    } else {
      for (let i = 0; i < rowLength; i++) sum[i] += Math.fround(beta * reduced[i]);
    }
  }
  flush(currentRow);
  return { width, height, channels, data: out };
}
