import type { GrayFrame } from '../frame.js';

/** A float luma plane: the gate's working images (the overview, and tiles at the text scale). */
export interface LumaPlane {
  width: number;
  height: number;
  data: Float32Array;
}

/** A rectangle of a full-resolution image, in its pixels. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Area-averages `region` of the luma by `scale` (at most 1: the gate never invents pixels).
 * Area averaging, not sampling, because every input pixel must count: a sampled downscale would
 * alias text strokes into a different sharpness at every input size.
 */
export function resampleLuma(gray: GrayFrame, region: Region, scale: number): LumaPlane {
  const outWidth = Math.max(1, Math.round(region.width * Math.min(1, scale)));
  const outHeight = Math.max(1, Math.round(region.height * Math.min(1, scale)));
  const rows = resampleRows(gray, region, outWidth);
  return { width: outWidth, height: outHeight, data: resampleColumns(rows, outWidth, region.height, outHeight) };
}

/**
 * For each input index, the output cell it starts in and the share of it that falls there; the
 * rest falls in the next cell. Output cells are at least one input pixel wide, so one input pixel
 * straddles at most two of them.
 */
export function areaWeights(inSize: number, outSize: number): { cell: Int32Array; share: Float32Array } {
  const ratio = outSize / inSize;
  const cell = new Int32Array(inSize);
  const share = new Float32Array(inSize);
  for (let i = 0; i < inSize; i++) {
    const start = i * ratio;
    const c = Math.min(outSize - 1, Math.floor(start));
    cell[i] = c;
    share[i] = (i + 1) * ratio <= c + 1 || c === outSize - 1 ? 1 : (c + 1 - start) / ratio;
  }
  return { cell, share };
}

function resampleRows(gray: GrayFrame, region: Region, outWidth: number): Float32Array {
  const { cell, share } = areaWeights(region.width, outWidth);
  const norm = outWidth / region.width;
  const out = new Float32Array(outWidth * region.height);
  const { data, width } = gray;
  for (let y = 0; y < region.height; y++) {
    const inRow = (region.y + y) * width + region.x;
    const outRow = y * outWidth;
    for (let x = 0; x < region.width; x++) {
      const v = data[inRow + x] * norm;
      const o = outRow + cell[x];
      const s = share[x];
      out[o] += v * s;
      if (s < 1) out[o + 1] += v * (1 - s);
    }
  }
  return out;
}

function resampleColumns(data: Float32Array, width: number, height: number, outHeight: number): Float32Array {
  const { cell, share } = areaWeights(height, outHeight);
  const norm = outHeight / height;
  const out = new Float32Array(width * outHeight);
  for (let y = 0; y < height; y++) {
    const inRow = y * width;
    const outRow = cell[y] * width;
    const s = share[y] * norm;
    const rest = (1 - share[y]) * norm;
    for (let x = 0; x < width; x++) out[outRow + x] += data[inRow + x] * s;
    if (rest > 0) {
      const nextRow = outRow + width;
      for (let x = 0; x < width; x++) out[nextRow + x] += data[inRow + x] * rest;
    }
  }
  return out;
}

/** Histogram samples beyond this add no precision to levels and fractions, only time. */
const HISTOGRAM_SAMPLES = 500_000;

/**
 * Counts of each luma level 0..255, over every pixel of images up to half a megapixel and over a
 * regular grid of about that many pixels beyond.
 */
export function lumaHistogram(gray: GrayFrame): Float64Array {
  const counts = new Float64Array(256);
  const { data, width, height } = gray;
  const step = Math.max(1, Math.ceil(Math.sqrt((width * height) / HISTOGRAM_SAMPLES)));
  for (let y = 0; y < height; y += step) {
    for (let i = y * width, end = i + width; i < end; i += step) counts[data[i] | 0]++;
  }
  return counts;
}

/** The level below which `fraction` of the pixels lie, interpolated within its bin. */
export function histogramPercentile(counts: Float64Array, fraction: number): number {
  let total = 0;
  for (let v = 0; v < 256; v++) total += counts[v];
  const target = fraction * total;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    if (counts[v] > 0 && seen + counts[v] >= target) return Math.max(0, v + (target - seen) / counts[v] - 0.5);
    seen += counts[v];
  }
  return 255;
}
