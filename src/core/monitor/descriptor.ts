import { toGray, type Frame, type GrayFrame } from '../frame.js';
import { histogramPercentile, lumaHistogram, resampleLuma } from '../quality/luma.js';

/**
 * The names of the image descriptor's numbers, in order: luma levels, colour and edge statistics
 * and the shape. A few dozen numbers that move when the light, the camera, the focus or the kind
 * of image changes, cheap enough to compute on every request.
 */
export const DESCRIPTOR_NAMES = [
  ...Array.from({ length: 8 }, (_, b) => `luma.share${b}`),
  'luma.mean',
  'luma.std',
  'luma.p05',
  'luma.p50',
  'luma.p95',
  'colour.meanRed',
  'colour.meanGreen',
  'colour.meanBlue',
  'colour.stdRed',
  'colour.stdGreen',
  'colour.stdBlue',
  'colour.chroma',
  'colour.colourfulShare',
  'edges.meanGradient',
  'edges.density',
  'edges.gradient0',
  'edges.gradient45',
  'edges.gradient90',
  'edges.gradient135',
  'edges.laplacianLog',
  'shape.logAspect',
] as const;

/** Edges are read on the luma area-averaged to this long side, so one scene describes the same at any capture size. */
const EDGE_LONG_SIDE = 256;
/** About this many pixels are sampled for the colour statistics. */
const COLOUR_SAMPLES = 65_536;
/** A gradient this steep (levels per overview pixel) counts as an edge. */
const EDGE_GRADIENT = 24;
/** Chroma (max minus min channel) from which a pixel counts as coloured rather than grey. */
const COLOURFUL_CHROMA = 32;

/**
 * The compact descriptor of an RGB(A) frame: `DESCRIPTOR_NAMES.length` numbers, most in 0..1.
 *
 * @example
 * const descriptor = describeFrame(ingested.frame); // number[29]
 */
export function describeFrame(frame: Frame, gray: GrayFrame = toGray(frame)): number[] {
  const histogram = lumaHistogram(gray);
  return [...lumaFeatures(histogram), ...colourFeatures(frame), ...edgeFeatures(gray), Math.log(frame.width / frame.height)];
}

function lumaFeatures(histogram: Float64Array): number[] {
  let total = 0;
  let sum = 0;
  let squares = 0;
  const shares = new Array<number>(8).fill(0);
  for (let v = 0; v < 256; v++) {
    total += histogram[v];
    sum += histogram[v] * v;
    squares += histogram[v] * v * v;
    shares[v >> 5] += histogram[v];
  }
  const safe = Math.max(1, total);
  const mean = sum / safe;
  const std = Math.sqrt(Math.max(0, squares / safe - mean * mean));
  return [
    ...shares.map((s) => s / safe),
    mean / 255,
    std / 255,
    histogramPercentile(histogram, 0.05) / 255,
    histogramPercentile(histogram, 0.5) / 255,
    histogramPercentile(histogram, 0.95) / 255,
  ];
}

function colourFeatures(frame: Frame): number[] {
  const { width, height, channels, data } = frame;
  const step = Math.max(1, Math.ceil(Math.sqrt((width * height) / COLOUR_SAMPLES)));
  const sums = [0, 0, 0];
  const squares = [0, 0, 0];
  let chroma = 0;
  let colourful = 0;
  let count = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const p = (y * width + x) * channels;
      const r = data[p];
      const g = data[p + 1];
      const b = data[p + 2];
      sums[0] += r;
      sums[1] += g;
      sums[2] += b;
      squares[0] += r * r;
      squares[1] += g * g;
      squares[2] += b * b;
      const c = Math.max(r, g, b) - Math.min(r, g, b);
      chroma += c;
      if (c >= COLOURFUL_CHROMA) colourful++;
      count++;
    }
  }
  const safe = Math.max(1, count);
  const means = sums.map((s) => s / safe);
  const stds = squares.map((s, i) => Math.sqrt(Math.max(0, s / safe - means[i] * means[i])));
  return [...means.map((m) => m / 255), ...stds.map((s) => s / 255), chroma / safe / 255, colourful / safe];
}

function edgeFeatures(gray: ReturnType<typeof toGray>): number[] {
  const scale = EDGE_LONG_SIDE / Math.max(gray.width, gray.height);
  const plane = resampleLuma(gray, { x: 0, y: 0, width: gray.width, height: gray.height }, scale);
  const { width, height, data } = plane;
  let magnitudeSum = 0;
  let edges = 0;
  const directions = [0, 0, 0, 0];
  let laplacianSum = 0;
  let laplacianSquares = 0;
  let count = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const gx = (data[i + 1] - data[i - 1]) / 2;
      const gy = (data[i + width] - data[i - width]) / 2;
      const magnitude = Math.hypot(gx, gy);
      magnitudeSum += magnitude;
      if (magnitude >= EDGE_GRADIENT) edges++;
      // Gradient direction folded to 0..180 degrees, in four sectors centred on 0, 45, 90 and 135.
      const angle = (Math.atan2(gy, gx) * 180) / Math.PI;
      const folded = (angle + 180 + 22.5) % 180;
      directions[Math.min(3, Math.floor(folded / 45))] += magnitude;
      const laplacian = data[i - 1] + data[i + 1] + data[i - width] + data[i + width] - 4 * data[i];
      laplacianSum += laplacian;
      laplacianSquares += laplacian * laplacian;
      count++;
    }
  }
  const safe = Math.max(1, count);
  const laplacianMean = laplacianSum / safe;
  const laplacianVariance = Math.max(0, laplacianSquares / safe - laplacianMean * laplacianMean);
  const directionTotal = Math.max(1e-9, directions[0] + directions[1] + directions[2] + directions[3]);
  return [
    magnitudeSum / safe / 255,
    edges / safe,
    ...directions.map((d) => d / directionTotal),
    Math.log1p(laplacianVariance) / 10,
  ];
}
