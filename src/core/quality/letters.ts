import type { LumaPlane } from './luma.js';

/** The size of the print, from the marks that look like letters. */
export interface LetterSizes {
  /** Letter-like marks found. */
  count: number;
  /** Median of their larger side, in pixels of the plane's source image (0 when none were found). */
  size: number;
  /**
   * Median of the smaller side of the letters and of the words whose letters touch: the height
   * of the print (a word lies along its line, a letter is about as wide as high), in source
   * pixels. Print shrunk until its letters run together still measures its own height here,
   * where the larger side would measure whole words.
   */
  height: number;
}

/** Dark marks are at least this many levels under their surroundings' mean ... */
export const MIN_DARKNESS = 16;
/** ...and at least this share of it, so paper grain is not ink on a bright page. */
export const DARKNESS_SHARE = 0.12;
/** ...and this many times the background's own range (grain, sensor and JPEG noise). */
export const NOISE_MULTIPLE = 2;
/** A letter's box is at most this many times as long as it is wide (a rule, a table border, is longer). */
const MAX_ASPECT = 3.5;
/** A word whose letters touch is at most this many times as long as high (a rule is longer). */
const MAX_WORD_ASPECT = 12;
/** Ink covers at least this share of a letter's box (a speckle cloud does not)... */
const MIN_FILL = 0.12;
/** ...and at most this share (a solid block, a shadow, a thumb fills more). */
const MAX_FILL = 0.92;
/** A mark smaller than this many pixels is noise. */
const MIN_AREA = 6;
/** A letter is smaller than this share of the image's short side: beyond it, a shape, not print. */
const MAX_SHARE = 0.6;

/**
 * Finds the marks darker than their neighbourhood (mean over a window wider than a letter's
 * stroke), labels them as 8-connected components, and keeps the letter-like ones: small,
 * compact, not solid. Their median larger side is the size of the print in pixels of the source
 * image (one plane pixel is 1 / `scale` source pixels), whatever the image's own size: a crop holding
 * one large word has large letters, a page shrunk to a thumbnail tiny ones. Turned or slanted
 * text has the same letters, so this holds at any rotation.
 */
export function measureLetters(plane: LumaPlane, scale: number, noise: number): LetterSizes {
  const { width, height, data } = plane;
  if (width < 3 || height < 3) return { count: 0, size: 0, height: 0 };
  const radius = darknessRadius(width, height);
  const integral = integralOf(plane);
  const dark = new Uint8Array(width * height);
  const stride = width + 1;
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - radius);
    const y1 = Math.min(height, y + radius + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - radius);
      const x1 = Math.min(width, x + radius + 1);
      const sum = integral[y1 * stride + x1] - integral[y0 * stride + x1] - integral[y1 * stride + x0] + integral[y0 * stride + x0];
      const mean = sum / ((y1 - y0) * (x1 - x0));
      if (data[y * width + x] < mean - Math.max(MIN_DARKNESS, DARKNESS_SHARE * mean, NOISE_MULTIPLE * noise)) dark[y * width + x] = 1;
    }
  }
  return lettersOf(componentBoxes(dark, width, height), width, height, scale);
}

/** An image whose bright end (its 99th percentile of luma) is under this was dimmed by its exposure... */
const DIM_BELOW = 192;
/** ...and is brightened by at most this gain (past it, noise would be lifted into marks). */
const MAX_GAIN = 4;

/**
 * The plane brightened until the image's bright end (`bright`) reaches 255, and its noise with
 * it, when exposure dimmed it (an underexposed capture, a page in shadow): a mark's darkness is
 * judged in levels, so print dimmed to a third loses its letters to the noise, and what is left of
 * them measures small. Only the gain of the exposure is undone, never the black level: blur and
 * downscaling lift the ink of a well-lit page too, and must still measure the marks they leave. A
 * plane with a bright end is returned as it is.
 */
export function undimmed(plane: LumaPlane, noise: number, bright: number): { plane: LumaPlane; noise: number } {
  if (bright >= DIM_BELOW) return { plane, noise };
  const gain = Math.min(MAX_GAIN, 255 / Math.max(1, bright));
  const data = new Float32Array(plane.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, plane.data[i] * gain);
  return { plane: { ...plane, data }, noise: noise * gain };
}

/** Half the side of the window a mark is compared with: wider than a letter's stroke. */
export function darknessRadius(width: number, height: number): number {
  return Math.max(7, Math.round(Math.max(width, height) / 40));
}

/** The 8-connected components of a mask: each one's bounding box and area, in labelling order. */
export interface ComponentBoxes {
  count: number;
  left: Int32Array;
  right: Int32Array;
  top: Int32Array;
  bottom: Int32Array;
  area: Int32Array;
}

/** The print's size from the components of the dark-mark mask of a width x height plane. */
export function lettersOf(boxes: ComponentBoxes, width: number, height: number, scale: number): LetterSizes {
  const { letters, heights } = markSides(boxes, Math.min(width, height) * MAX_SHARE);
  if (letters.length === 0) return { count: 0, size: 0, height: 0 };
  return { count: letters.length, size: median(letters) / scale, height: median(heights) / scale };
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[values.length >> 1];
}

function integralOf(plane: LumaPlane): Float64Array {
  const { width, height, data } = plane;
  const stride = width + 1;
  const integral = new Float64Array(stride * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += data[y * width + x];
      integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + row;
    }
  }
  return integral;
}

function componentBoxes(mask: Uint8Array, width: number, height: number): ComponentBoxes {
  const parent = new Int32Array(width * height).fill(-1);
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root];
    while (parent[i] !== root) [i, parent[i]] = [parent[i], root];
    return root;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (mask[i] === 0) continue;
      parent[i] = i;
      if (x > 0 && mask[i - 1]) union(i, i - 1);
      if (y > 0) {
        if (mask[i - width]) union(i, i - width);
        if (x > 0 && mask[i - width - 1]) union(i, i - width - 1);
        if (x < width - 1 && mask[i - width + 1]) union(i, i - width + 1);
      }
    }
  }
  // Compact ids for the roots, then each component's box and area in typed arrays.
  const id = new Int32Array(width * height);
  let components = 0;
  for (let i = 0; i < width * height; i++) if (mask[i] !== 0 && find(i) === i) id[i] = components++;
  const left = new Int32Array(components).fill(width);
  const right = new Int32Array(components).fill(-1);
  const top = new Int32Array(components).fill(height);
  const bottom = new Int32Array(components).fill(-1);
  const area = new Int32Array(components);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (mask[i] === 0) continue;
      const c = id[find(i)];
      if (x < left[c]) left[c] = x;
      if (x > right[c]) right[c] = x;
      if (y < top[c]) top[c] = y;
      bottom[c] = y;
      area[c]++;
    }
  }
  return { count: components, left, right, top, bottom, area };
}

/** The larger side of every letter-like component, and the smaller side of those and of word-like ones. */
function markSides({ count, left, right, top, bottom, area }: ComponentBoxes, maxSide: number): { letters: number[]; heights: number[] } {
  const letters: number[] = [];
  const heights: number[] = [];
  for (let c = 0; c < count; c++) {
    const w = right[c] - left[c] + 1;
    const h = bottom[c] - top[c] + 1;
    const long = Math.max(w, h);
    const short = Math.min(w, h);
    const fill = area[c] / (w * h);
    if (area[c] < MIN_AREA || long > maxSide || fill < MIN_FILL || fill > MAX_FILL) continue;
    if (long <= MAX_ASPECT * short) letters.push(long);
    if (long <= MAX_WORD_ASPECT * short) heights.push(short);
  }
  return { letters, heights };
}
