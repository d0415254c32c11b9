import type { Frame } from '../frame.js';
import { checkTargetSize } from './resize.js';

/*
 * Pillow's Image.resize for 8-bit images (libImaging/Resample.c), which torchvision's Resize runs
 * on PIL images and approximates on tensors with antialias=True. Each axis is a convolution whose
 * kernel widens with the reduction factor, so shrinking averages every source pixel instead of
 * sampling a few (the anti-aliasing OpenCV's INTER_LINEAR lacks). Weights are 22-bit fixed point
 * and the horizontal pass is rounded to bytes before the vertical one, as Pillow does.
 */

/** Pillow's Image.BILINEAR (triangle, support 1) and Image.BICUBIC (Keys, a = -0.5, support 2). */
export type PilFilter = 'bilinear' | 'bicubic';

/** Pillow's PRECISION_BITS: 32 - 8 - 2, room for a byte times a weight plus the kernel's overshoot. */
const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

const FILTERS: Record<PilFilter, { support: number; weight: (x: number) => number }> = {
  bilinear: {
    support: 1,
    weight: (x) => {
      const distance = Math.abs(x);
      return distance < 1 ? 1 - distance : 0;
    },
  },
  bicubic: {
    support: 2,
    // Keys' cubic with a = -0.5 (OpenCV's INTER_CUBIC and PyTorch use -0.75).
    weight: (x) => {
      const a = -0.5;
      const distance = Math.abs(x);
      if (distance < 1) return ((a + 2) * distance - (a + 3)) * distance * distance + 1;
      if (distance < 2) return (((distance - 5) * distance + 8) * distance - 4) * a;
      return 0;
    },
  },
};

interface Kernel {
  /** First source index per output index. */
  start: Int32Array;
  /** Number of source pixels per output index. */
  count: Int32Array;
  /** `size` fixed-point weights per output index. */
  weights: Int32Array;
  size: number;
}

/** Pillow's precompute_coeffs followed by normalize_coeffs_8bpc. */
function kernelFor(source: number, target: number, filter: PilFilter): Kernel {
  const { support: baseSupport, weight } = FILTERS[filter];
  const scale = source / target;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  // Multiplied by the inverse, not divided, as Pillow does: the weights match it to the last bit.
  const inverse = 1 / filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(target);
  const count = new Int32Array(target);
  const weights = new Int32Array(target * size);
  const raw = new Float64Array(size);
  for (let d = 0; d < target; d++) {
    const center = (d + 0.5) * scale;
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), source) - first;
    let total = 0;
    for (let k = 0; k < n; k++) {
      raw[k] = weight((k + first - center + 0.5) * inverse);
      total += raw[k];
    }
    for (let k = 0; k < n; k++) {
      const normalised = total !== 0 ? raw[k] / total : raw[k];
      weights[d * size + k] = Math.trunc(normalised < 0 ? -0.5 + normalised * (1 << PRECISION_BITS) : 0.5 + normalised * (1 << PRECISION_BITS));
    }
    start[d] = first;
    count[d] = n;
  }
  return { start, count, weights, size };
}

function clampByte(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** Rows `fromRow` to `fromRow + rows` of `frame`, each resampled to `width` columns. */
function resampleColumns(frame: Frame, width: number, kernel: Kernel, fromRow: number, rows: number): Frame {
  const { channels, data } = frame;
  const out = new Uint8Array(width * rows * channels);
  const { start, count, weights, size } = kernel;
  for (let y = 0, o = 0; y < rows; y++) {
    const row = (fromRow + y) * frame.width * channels;
    for (let x = 0; x < width; x++) {
      const n = count[x];
      const w = x * size;
      // All channels of a pixel in one pass over the kernel: RGB and RGBA are the only shapes.
      let first = HALF;
      let second = HALF;
      let third = HALF;
      let fourth = HALF;
      for (let k = 0, p = row + start[x] * channels; k < n; k++, p += channels) {
        const weight = weights[w + k];
        first += data[p] * weight;
        second += data[p + 1] * weight;
        third += data[p + 2] * weight;
        if (channels === 4) fourth += data[p + 3] * weight;
      }
      out[o++] = clampByte(first);
      out[o++] = clampByte(second);
      out[o++] = clampByte(third);
      if (channels === 4) out[o++] = clampByte(fourth);
    }
  }
  return { width, height: rows, channels, data: out };
}

/** Every column of `frame` resampled to `height` rows; the kernel's rows start at `rowOffset`. */
function resampleRows(frame: Frame, height: number, kernel: Kernel, rowOffset: number): Frame {
  const { width, channels, data } = frame;
  const rowLength = width * channels;
  const out = new Uint8Array(height * rowLength);
  // Whole source rows are weighted into one accumulator row, reading memory in order.
  const sums = new Int32Array(rowLength);
  for (let y = 0; y < height; y++) {
    sums.fill(HALF);
    const first = (kernel.start[y] - rowOffset) * rowLength;
    for (let k = 0; k < kernel.count[y]; k++) {
      const weight = kernel.weights[y * kernel.size + k];
      const row = first + k * rowLength;
      for (let i = 0; i < rowLength; i++) sums[i] += data[row + i] * weight;
    }
    const base = y * rowLength;
    for (let i = 0; i < rowLength; i++) out[base + i] = clampByte(sums[i]);
  }
  return { width, height, channels, data: out };
}

/**
 * Resizes as Pillow's `image.resize((width, height), Image.BILINEAR | Image.BICUBIC)` does
 * (no reducing_gap, the default), byte for byte. Keeps the frame's channels.
 *
 * @example resizePil(frame, 224, 224, 'bicubic') // what torchvision's Resize((224, 224), BICUBIC) gives a PIL image
 */
export function resizePil(frame: Frame, width: number, height: number, filter: PilFilter): Frame {
  checkTargetSize(width, height);
  const rows = kernelFor(frame.height, height, filter);
  // Only the source rows the vertical pass reads go through the horizontal one, as in Pillow.
  const firstRow = rows.start[0];
  const endRow = rows.start[height - 1] + rows.count[height - 1];
  let current = frame;
  let rowOffset = 0;
  if (width !== frame.width) {
    current = resampleColumns(frame, width, kernelFor(frame.width, width, filter), firstRow, endRow - firstRow);
    rowOffset = firstRow;
  }
  if (height !== frame.height) current = resampleRows(current, height, rows, rowOffset);
  return current === frame ? { width, height, channels: frame.channels, data: new Uint8Array(frame.data) } : current;
}
