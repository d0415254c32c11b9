import { VisionopsError } from '../errors.js';
import type { Frame } from '../frame.js';
import { addMargin } from './margin.js';
import { resizeBilinear } from './resize.js';
import type { PreprocessSpec, ResizeSpec } from './spec.js';
import { roundHalfEven } from '../numbers.js';

export interface Tensor {
  data: Float32Array;
  dims: number[];
}

export interface FrameTensor extends Tensor {
  /** Size of the image inside the tensor, before any padding: what output coordinates scale from. */
  resizedWidth: number;
  resizedHeight: number;
}

export interface BatchTensor extends Tensor {
  /** Per frame, the size of its image inside the tensor before padding. */
  resized: { width: number; height: number }[];
}

function roundUpToMultiple(value: number, multiple: number | undefined): number {
  return multiple === undefined ? value : Math.ceil(value / multiple) * multiple;
}

/** The size a frame of width x height is resized to under `resize`, before padding. */
export function resizedSize(width: number, height: number, resize: ResizeSpec): { width: number; height: number } {
  switch (resize.mode) {
    case 'limit-long-side': {
      const ratio = Math.max(width, height) > resize.target ? resize.target / Math.max(width, height) : 1;
      const snap = (side: number) => Math.max(roundHalfEven(Math.trunc(side * ratio) / resize.multipleOf) * resize.multipleOf, resize.multipleOf);
      return { width: snap(width), height: snap(height) };
    }
    case 'fixed-height': {
      let resizedWidth = roundUpToMultiple(Math.ceil((resize.height * width) / height), resize.multipleOf);
      if (resize.maxWidth !== undefined) resizedWidth = Math.min(resizedWidth, resize.maxWidth);
      return { width: Math.max(1, resizedWidth), height: resize.height };
    }
    case 'fixed':
      return { width: resize.width, height: resize.height };
  }
}

/**
 * Per channel of the tensor, the normalised value of each byte: (byte * scale - mean) / std,
 * computed once instead of per sample.
 */
function normalisationTables(spec: PreprocessSpec): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v * spec.scale - spec.mean[c]) / spec.std[c];
    return table;
  });
}

/**
 * Writes one resized frame into `out` as a [3, height, paddedWidth] plane set starting at `offset`;
 * columns beyond the frame's width keep whatever `out` was filled with.
 */
function writePlanes(resized: Frame, spec: PreprocessSpec, tables: Float32Array[], out: Float32Array, offset: number, paddedWidth: number): void {
  const { width, height, channels, data } = resized;
  const plane = height * paddedWidth;
  // Tensor channel c reads frame channel source[c]: a BGR tensor starts with the frame's blue.
  const source = spec.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const table = tables[c];
    const from = source[c];
    const base = offset + c * plane;
    for (let y = 0; y < height; y++) {
      const row = base + y * paddedWidth;
      for (let x = 0, p = y * width * channels + from; x < width; x++, p += channels) out[row + x] = table[data[p]];
    }
  }
}

function withMargin(frame: Frame, spec: PreprocessSpec): Frame {
  if (spec.margin === undefined) return frame;
  return addMargin(frame, Math.round(frame.height * spec.margin.vertical), Math.round(frame.height * spec.margin.horizontal));
}

function paddedWidthFor(spec: PreprocessSpec, widest: number): number {
  return spec.padding === undefined ? widest : Math.max(widest, spec.padding.width ?? 0);
}

/**
 * One frame as the model's input: surrounded by `spec.margin`, resized per `spec.resize` (bilinear, as cv2.INTER_LINEAR),
 * channels reordered, scaled and normalised, laid out NCHW with a batch of one, padded on the
 * right when `spec.padding` asks. RGBA frames lose their alpha.
 *
 * @example toTensor(frame, detectionSpec) // { data, dims: [1, 3, 640, 960], resizedWidth: 960, resizedHeight: 640 }
 */
export function toTensor(frame: Frame, spec: PreprocessSpec): FrameTensor {
  const batch = toTensorBatch([frame], spec);
  return { data: batch.data, dims: batch.dims, resizedWidth: batch.resized[0].width, resizedHeight: batch.resized[0].height };
}

/**
 * Several frames as one [N, 3, H, W] input, as PaddleOCR batches its recogniser: each frame
 * resized on its own, then all padded on the right to the widest (and at least to
 * `spec.padding.width`). Every frame must resize to the same height, and frames of different
 * widths need `spec.padding`.
 */
export function toTensorBatch(frames: Frame[], spec: PreprocessSpec): BatchTensor {
  if (frames.length === 0) {
    throw new VisionopsError('INTERNAL', 'toTensorBatch needs at least one frame; skip the model call when there is nothing to run.');
  }
  const resized = frames.map((original) => {
    const frame = withMargin(original, spec);
    const size = resizedSize(frame.width, frame.height, spec.resize);
    return resizeBilinear(frame, size.width, size.height);
  });
  const height = resized[0].height;
  const widest = Math.max(...resized.map((r) => r.width));
  if (resized.some((r) => r.height !== height) || (spec.padding === undefined && resized.some((r) => r.width !== widest))) {
    throw new VisionopsError(
      'INTERNAL',
      'Frames of a batch resize to different sizes and the spec has no padding: batch only frames a fixed-height spec with padding brings to one shape, or run them one at a time.',
      { sizes: resized.map((r) => [r.width, r.height]) },
    );
  }
  const paddedWidth = paddedWidthFor(spec, widest);
  const planeSet = 3 * height * paddedWidth;
  const data = new Float32Array(frames.length * planeSet);
  if (spec.padding !== undefined && spec.padding.value !== 0) data.fill(spec.padding.value);
  const tables = normalisationTables(spec);
  resized.forEach((frame, n) => writePlanes(frame, spec, tables, data, n * planeSet, paddedWidth));
  return { data, dims: [frames.length, 3, height, paddedWidth], resized: resized.map((r) => ({ width: r.width, height: r.height })) };
}
