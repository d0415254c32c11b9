import type { LumaPlane } from './luma.js';

/**
 * The edges of a luma plane, found along every row and every column. Each carries its steepness:
 * gradient magnitude over the luma range around it, which is the reciprocal of the edge's width
 * in pixels whatever the contrast, so a dark or faint page in focus measures as steep as a crisp
 * black-on-white one.
 */
export interface EdgeSamples {
  /** Edges whose contrast stands out of the background (see `significantContrast`). */
  count: number;
  /** Edges found scanning rows come first; `rowEdges` of them. */
  rowEdges: number;
  /** Pixel index of each edge in the plane. */
  position: Int32Array;
  /** Darkest and brightest luma within the window around each edge. */
  low: Float32Array;
  high: Float32Array;
  /** Gradient magnitude over (high - low), per pixel: 0.5 for a one-pixel step. */
  steepness: Float32Array;
  /**
   * Edges with an edge of the opposite sign near them on the same line: the two sides of a stroke,
   * a rule or a word. A lone step (the border of a blank sheet, a shadow) has none.
   */
  paired: number;
  /** Rows plus columns scanned, so a count of edges becomes a density that does not depend on size. */
  scanLines: number;
  /** Luma range of the quieter background windows (25th percentile): paper grain, sensor and JPEG noise. */
  backgroundRange: number;
  /** The contrast an edge needed to count. */
  significantContrast: number;
}

export interface EdgeOptions {
  /** Half-width, in pixels, of the window whose luma range is an edge's contrast. */
  window: number;
  /** An edge counts when its contrast reaches this many luma levels... */
  minContrast: number;
  /** ...and this many times the background range... */
  backgroundMultiple: number;
  /** ...but never more than this: print on a page that fills little of a busy frame (granite, a patterned cloth) still counts. */
  maxContrast: number;
  /** Opposite edges at most this many pixels apart pair up. */
  pairDistance: number;
}

/** Samples beyond this are not kept: enough for stable medians, and bounded work on busy images. */
export const MAX_SAMPLES = 100_000;
/**
 * An edge wider than about 30 pixels is shading (a shadow, a vignette) or the ripple JPEG leaves
 * beside one, not a mark; text blurred that far is past reading at any scale the gate reads it.
 */
export const MIN_STEEPNESS = 0.03;

export function sampleEdges(plane: LumaPlane, options: EdgeOptions): EdgeSamples {
  const backgroundRange = estimateBackgroundRange(plane, options.window);
  const significantContrast = significantContrastOf(backgroundRange, options);
  const samples = Math.min(MAX_SAMPLES, plane.width * plane.height);
  const state: ScanState = {
    position: new Int32Array(samples),
    low: new Float32Array(samples),
    high: new Float32Array(samples),
    steepness: new Float32Array(samples),
    count: 0,
    paired: 0,
    significantContrast,
    // A step that rises less than this per pixel is a shading, not an edge worth measuring.
    minGradient: significantContrast / (2 * options.window + 1),
    window: options.window,
    pairDistance: options.pairDistance,
  };
  const { width, height } = plane;
  scanLines(plane, state, height, width, width, 1);
  const rowEdges = state.count;
  scanLines(plane, state, width, height, 1, width);
  return {
    count: state.count,
    rowEdges,
    position: state.position.subarray(0, state.count),
    low: state.low.subarray(0, state.count),
    high: state.high.subarray(0, state.count),
    steepness: state.steepness.subarray(0, state.count),
    paired: state.paired,
    scanLines: width + height,
    backgroundRange,
    significantContrast,
  };
}

interface ScanState {
  position: Int32Array;
  low: Float32Array;
  high: Float32Array;
  steepness: Float32Array;
  count: number;
  paired: number;
  significantContrast: number;
  minGradient: number;
  window: number;
  pairDistance: number;
}

/**
 * Walks `lines` lines of `length` samples. `lineStep` moves to the next line and `step` along
 * one, so the same loop reads rows (step 1) and columns (step = width). An edge is a local
 * maximum of the gradient along the line, kept only where the line crosses it within 45 degrees
 * of its normal, so every edge is measured once, in the direction it is narrowest across.
 */
function scanLines(plane: LumaPlane, state: ScanState, lines: number, length: number, lineStep: number, step: number): void {
  const { data } = plane;
  const across = lineStep;
  const gradient = new Float32Array(length);
  const { window, minGradient, significantContrast, pairDistance } = state;
  for (let line = 1; line < lines - 1; line++) {
    const base = line * lineStep;
    for (let t = 1; t < length - 1; t++) {
      const i = base + t * step;
      gradient[t] = (data[i + step] - data[i - step]) * 0.5;
    }
    let lastAt = -Infinity;
    let lastRising = false;
    let lastPaired = false;
    for (let t = 2; t < length - 2; t++) {
      const signed = gradient[t];
      const g = signed < 0 ? -signed : signed;
      if (g < minGradient || g <= Math.abs(gradient[t - 1]) || g < Math.abs(gradient[t + 1])) continue;
      const i = base + t * step;
      const g2 = Math.abs(data[i + across] - data[i - across]) * 0.5;
      if (g2 > g) continue;
      const from = t > window ? t - window : 0;
      const to = t + window < length ? t + window : length - 1;
      let low = Infinity;
      let high = -Infinity;
      for (let j = base + from * step, end = base + to * step; j <= end; j += step) {
        const v = data[j];
        if (v < low) low = v;
        if (v > high) high = v;
      }
      const range = high - low;
      const steepness = Math.sqrt(g * g + g2 * g2) / range;
      if (range < significantContrast || steepness < MIN_STEEPNESS) continue;
      const rising = signed > 0;
      const pairs = rising !== lastRising && t - lastAt <= pairDistance;
      if (pairs) state.paired += lastPaired ? 1 : 2;
      lastAt = t;
      lastRising = rising;
      lastPaired = pairs;
      if (state.count >= state.position.length) continue;
      state.position[state.count] = i;
      state.low[state.count] = low;
      state.high[state.count] = high;
      state.steepness[state.count] = steepness;
      state.count++;
    }
  }
}

/**
 * The luma range of a window in the quieter quarter of the image: sampled on a sparse grid of
 * windows, its 25th percentile. Text covers well under three quarters of any page, so this is
 * the paper's own grain and noise, JPEG blocks included, which a median of neighbour differences
 * misses. Windows run along rows and, separately, along columns, and the quieter answer is kept:
 * on a page turned near a quarter almost every window along a row crosses a line of text, while
 * windows along its columns fall between the lines.
 */
/** The contrast an edge needs to count, from the background's range and the options' bounds. */
export function significantContrastOf(backgroundRange: number, options: EdgeOptions): number {
  return Math.min(options.maxContrast, Math.max(options.minContrast, options.backgroundMultiple * backgroundRange));
}

function estimateBackgroundRange(plane: LumaPlane, window: number): number {
  const { width, height } = plane;
  const ranges = [quietRange(plane, window, height, width, width, 1), quietRange(plane, window, width, height, 1, width)].filter((r) => r !== null);
  return ranges.length === 0 ? 0 : Math.min(...ranges);
}

/** The 25th percentile of the luma range of windows along every 4th of `lines` lines (see `scanLines` for the steps); null when the lines are shorter than a window. */
function quietRange(plane: LumaPlane, window: number, lines: number, length: number, lineStep: number, step: number): number | null {
  const { data } = plane;
  const bins = new Uint32Array(1024);
  let total = 0;
  const span = 2 * window + 1;
  for (let line = 1; line < lines; line += 4) {
    const base = line * lineStep;
    for (let t = 0; t + span <= length; t += span) {
      let low = Infinity;
      let high = -Infinity;
      for (let j = base + t * step, end = base + (t + span) * step; j < end; j += step) {
        const v = data[j];
        if (v < low) low = v;
        if (v > high) high = v;
      }
      const b = ((high - low) * 4) | 0;
      bins[b < 1023 ? b : 1023]++;
      total++;
    }
  }
  if (total === 0) return null;
  let seen = 0;
  for (let b = 0; b < 1024; b++) {
    seen += bins[b];
    if (seen * 4 >= total) return b / 4;
  }
  return 256;
}
