import { VisionopsError } from '../errors.js';
import type { Frame } from '../frame.js';
import { roundHalfEven } from '../rounding.js';
import { resizeWith } from './interpolation.js';
import { addMargin } from './margin.js';
import { centreCropOffset, letterbox, placeOnCanvas, shorterSideSize, type Placement } from './placement.js';
import type { PreprocessSpec, ResizeSpec } from './spec.js';

export interface Tensor {
  data: Float32Array;
  dims: number[];
}

export interface FrameTensor extends Tensor {
  /**
   * Size of the image inside the tensor, before `spec.padding`: what output coordinates scale
   * from (a letterbox or a crop counts whole; `placement` maps through it).
   */
  resizedWidth: number;
  resizedHeight: number;
  /** How frame pixels map to tensor pixels, margin, letterbox and crop included. */
  placement: Placement;
}

export interface BatchTensor extends Tensor {
  /** Per frame, the size of its image inside the tensor before padding. */
  resized: { width: number; height: number }[];
  /** Per frame, how its pixels map to tensor pixels. */
  placements: Placement[];
}

function roundUpToMultiple(value: number, multiple: number | undefined): number {
  return multiple === undefined ? value : Math.ceil(value / multiple) * multiple;
}

/**
 * The size a frame of width x height is resized to under `resize`, before padding: for a
 * letterbox the scaled image inside the box, for `shorter-side` the size before the crop.
 */
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
    case 'letterbox': {
      const box = letterbox(width, height, resize.width, resize.height, resize.scaleUp);
      return { width: box.width, height: box.height };
    }
    case 'shorter-side':
      return shorterSideSize(width, height, resize.size);
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

/**
 * Writes one frame into `out` as [height, paddedWidth, 3] interleaved samples starting at
 * `offset`; columns beyond the frame's width keep whatever `out` was filled with.
 */
function writeInterleaved(frame: Frame, spec: PreprocessSpec, tables: Float32Array[], out: Float32Array, offset: number, paddedWidth: number): void {
  const { width, height, channels, data } = frame;
  const [first, second, third] = spec.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const [firstTable, secondTable, thirdTable] = tables;
  for (let y = 0; y < height; y++) {
    for (let x = 0, p = y * width * channels, o = offset + y * paddedWidth * 3; x < width; x++, p += channels, o += 3) {
      out[o] = firstTable[data[p + first]];
      out[o + 1] = secondTable[data[p + second]];
      out[o + 2] = thirdTable[data[p + third]];
    }
  }
}

/**
 * The frame as the tensor holds it, before normalisation: margin added, resized, letterboxed or
 * centre-cropped; and where the original frame's pixels ended up.
 */
function placeFrame(original: Frame, spec: PreprocessSpec): { frame: Frame; placement: Placement } {
  const top = spec.margin === undefined ? 0 : Math.round(original.height * spec.margin.vertical);
  const side = spec.margin === undefined ? 0 : Math.round(original.height * spec.margin.horizontal);
  const frame = addMargin(original, top, side);
  const { resize } = spec;
  const size = resizedSize(frame.width, frame.height, resize);
  const resized = resizeWith(frame, size.width, size.height, spec.interpolation);
  const scaleX = size.width / frame.width;
  const scaleY = size.height / frame.height;
  if (resize.mode === 'letterbox') {
    const box = letterbox(frame.width, frame.height, resize.width, resize.height, resize.scaleUp);
    return {
      frame: placeOnCanvas(resized, resize.width, resize.height, box.left, box.top, resize.padValue ?? 114),
      // Ultralytics maps boxes back with its ratio, not the rounded per-axis scale; so do we.
      placement: { scaleX: box.ratio, scaleY: box.ratio, offsetX: box.left + side * box.ratio, offsetY: box.top + top * box.ratio },
    };
  }
  if (resize.mode === 'shorter-side' && resize.crop !== undefined) {
    const { left, top: cropTop } = centreCropOffset(size.width, size.height, resize.crop.width, resize.crop.height);
    return {
      frame: placeOnCanvas(resized, resize.crop.width, resize.crop.height, -left, -cropTop, 0),
      placement: { scaleX, scaleY, offsetX: side * scaleX - left, offsetY: top * scaleY - cropTop },
    };
  }
  return { frame: resized, placement: { scaleX, scaleY, offsetX: side * scaleX, offsetY: top * scaleY } };
}

function paddedWidthFor(spec: PreprocessSpec, widest: number): number {
  return spec.padding === undefined ? widest : Math.max(widest, spec.padding.width ?? 0);
}

/**
 * One frame as the model's input: surrounded by `spec.margin`, resized per `spec.resize` with
 * `spec.interpolation` (the built-in models' bilinear by default), letterboxed or centre-cropped, channels
 * reordered, scaled and normalised, laid out per `spec.layout` with a batch of one, padded on the
 * right when `spec.padding` asks. RGBA frames lose their alpha.
 *
 * @example toTensor(frame, detectionSpec) // { data, dims: [1, 3, 640, 960], resizedWidth: 960, resizedHeight: 640 }
 */
export function toTensor(frame: Frame, spec: PreprocessSpec): FrameTensor {
  const batch = toTensorBatch([frame], spec);
  return { data: batch.data, dims: batch.dims, resizedWidth: batch.resized[0].width, resizedHeight: batch.resized[0].height, placement: batch.placements[0] };
}

/**
 * Several frames as one [N, 3, H, W] (or [N, H, W, 3]) input, as PaddleOCR batches its
 * recogniser: each frame resized on its own, then all padded on the right to the widest (and at
 * least to `spec.padding.width`). Every frame must resize to the same height, and frames of different
 * widths need `spec.padding`.
 */
export function toTensorBatch(frames: Frame[], spec: PreprocessSpec): BatchTensor {
  if (frames.length === 0) {
    throw new VisionopsError('INTERNAL', 'toTensorBatch needs at least one frame; skip the model call when there is nothing to run.');
  }
  const placed = frames.map((frame) => placeFrame(frame, spec));
  const resized = placed.map((p) => p.frame);
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
  const write = spec.layout === 'nhwc' ? writeInterleaved : writePlanes;
  resized.forEach((frame, n) => write(frame, spec, tables, data, n * planeSet, paddedWidth));
  return {
    data,
    dims: spec.layout === 'nhwc' ? [frames.length, height, paddedWidth, 3] : [frames.length, 3, height, paddedWidth],
    resized: resized.map((r) => ({ width: r.width, height: r.height })),
    placements: placed.map((p) => p.placement),
  };
}
