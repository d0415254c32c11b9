import type { EdgeSamples } from './edges.js';
import { binnedQuantile } from './quantile.js';

export interface LinePitch {
  /** Distance between text lines, in pixels of the plane the edges were found in. */
  pitch: number;
  /** Normalised autocorrelation at that distance: 1 for perfectly regular lines. */
  confidence: number;
  /** Skew of the lines that lined them up best, in degrees. */
  skew: number;
}

/** Wide enough to hold a few characters; the skew search keeps lines level within one. */
const STRIP_WIDTH = 32;
const MAX_SKEW_DEGREES = 10;
const MIN_PITCH = 5;
const MAX_PITCH = 160;
/**
 * Lines of unequal length make the autocorrelation peak about as high at two or three pitches as
 * at one; the first peak that comes this close to the highest is the pitch.
 */
const FIRST_PEAK_SHARE = 0.8;
const STRONG_EDGE_SHARE = 0.5;
/**
 * Blur weakens the peak at the pitch more than the one at twice the pitch; a peak at about half
 * the chosen lag that reaches this share of the chosen one is the real pitch. Between evenly set
 * lines the mean-removed profiles correlate negatively, so no such peak appears by chance.
 */
const HALF_PEAK_SHARE = 0.35;
const HALF_PEAK_TOLERANCE = 0.15;

/**
 * The line pitch of the text, from the rows where vertical strokes sit. Per vertical strip, the
 * count of row-scan edges on each row rises on every text line and drops between lines; the
 * strips are sheared by the skew that makes those profiles peakiest (a tilted page still has
 * level lines within a strip), and the autocorrelation of the profiles peaks at the pitch. Blur
 * spreads the lines but leaves them where they are, which is why the pitch (not stroke widths or
 * letter sizes) sets the scale blur is judged at. Returns null when no regular lines are found (a
 * label, a photo); on a page turned sideways it finds the letters' pitch (see `estimateLinePitchEitherWay`).
 */
export function estimateLinePitch(edges: EdgeSamples, width: number, height: number, profiler: StripProfiler = stripProfiler): LinePitch | null {
  const maxLag = Math.min(MAX_PITCH, Math.floor(height / 3));
  if (maxLag <= MIN_PITCH || edges.rowEdges === 0) return null;
  const marks = strongMarks(edges, width);
  const strips = Math.ceil(width / STRIP_WIDTH);
  const profiles = profiler(marks, strips, height);
  const slope = (degrees: number) => Math.tan((degrees * Math.PI) / 180);
  const peakiness = (degrees: number) => profiles.peakiness(slope(degrees));
  let skew = 0;
  let bestPeakiness = -1;
  for (let degrees = -MAX_SKEW_DEGREES; degrees <= MAX_SKEW_DEGREES; degrees += 2) {
    const p = peakiness(degrees);
    if (p > bestPeakiness) [skew, bestPeakiness] = [degrees, p];
  }
  for (const degrees of [skew - 1, skew + 1]) {
    const p = peakiness(degrees);
    if (p > bestPeakiness) [skew, bestPeakiness] = [degrees, p];
  }
  const { correlation, energy } = profiles.autocorrelation(slope(skew), maxLag + 2);
  if (energy === 0) return null;
  const peaks: number[] = [];
  for (let lag = MIN_PITCH; lag <= maxLag; lag++) {
    const c = correlation[lag];
    if (c > 0 && c > correlation[lag - 1] && c >= correlation[lag + 1]) peaks.push(lag);
  }
  if (peaks.length === 0) return null;
  const highest = Math.max(...peaks.map((lag) => correlation[lag]));
  const first = peaks.find((l) => correlation[l] >= FIRST_PEAK_SHARE * highest) ?? peaks[0];
  const half = peaks.find((l) => Math.abs(l - first / 2) <= HALF_PEAK_TOLERANCE * (first / 2) + 1 && correlation[l] >= HALF_PEAK_SHARE * correlation[first]);
  const lag = half ?? first;
  const before = correlation[lag - 1];
  const at = correlation[lag];
  const after = correlation[lag + 1];
  const curvature = before - 2 * at + after;
  const shift = curvature < 0 ? (0.5 * (before - after)) / curvature : 0;
  return { pitch: lag + shift, confidence: at / energy, skew };
}

/**
 * The line pitch whichever way the page lies. Across the rows (upright or upside down) is the
 * default; on a page turned a quarter that analysis finds the letters' pitch along each line, so
 * the page is read across its columns instead when two things say so: the gaps between lines show
 * that way (projected across the lines, at the slant that levels them, edges leave empty bands;
 * projected along them, the lines fill each other's gaps), and the pitch found that way is the
 * wider, as line spacing always is beside a letter. A receipt's gap between item and price
 * columns shows gaps too, but across it the pitch is a letter's. Blur that fills the gaps, or a
 * single line, leaves the default.
 */
export function estimateLinePitchEitherWay(
  edges: EdgeSamples,
  width: number,
  height: number,
  minConfidence: number,
  profiler: StripProfiler = stripProfiler,
): LinePitch | null {
  const acrossRows = estimateLinePitch(edges, width, height, profiler);
  const columnEdges = columnEdgesAsRows(edges, width, height);
  const acrossColumns = estimateLinePitch(columnEdges, height, width, profiler);
  if (acrossColumns === null || acrossColumns.confidence < minConfidence) return acrossRows;
  if (acrossRows !== null && acrossRows.pitch >= acrossColumns.pitch) return acrossRows;
  const rowGaps = gapShare(edges, width, height, acrossRows?.skew ?? 0);
  const columnGaps = gapShare(columnEdges, height, width, acrossColumns.skew);
  return columnGaps >= MIN_GAP_SHARE && columnGaps > GAP_SHARE_RATIO * rowGaps ? acrossColumns : acrossRows;
}

/** The share of the text's extent that must lie in empty bands for lines to show, and how much more one way than the other. */
const MIN_GAP_SHARE = 0.1;
const GAP_SHARE_RATIO = 1.25;
/** A band this far under the mean count per row is empty: the stray edge of a descender or JPEG ringing does not fill it. */
const EMPTY_BAND_SHARE = 0.05;
/** Rows this share of the edges from either end bound the text's extent, so that margins do not count as gaps. */
const EXTENT_TAIL = 0.02;
/** The pitch analysis finds the slant to a degree; the gaps need it to a quarter. */
const SLANT_SEARCH_DEGREES = 1.5;
const SLANT_STEP_DEGREES = 0.25;
/** Edges beyond this many are sampled evenly: enough to see the bands, and bounded work. */
const GAP_SAMPLES = 20_000;

/**
 * The share of rows, between the first and last 2% of the edges, that hold almost none: the
 * strong row-scan edges (of a plane width x height; the weak ones include the ringing JPEG leaves
 * between lines) projected on its rows after shearing by the slant within 1.5 degrees of
 * `skewDegrees` that empties the most rows.
 */
function gapShare(edges: EdgeSamples, width: number, height: number, skewDegrees: number): number {
  const marks = strongMarks(edges, width);
  if (marks.count === 0) return 0;
  const x = new Float32Array(marks.count);
  for (let m = 0; m < marks.count; m++) x[m] = marks.strip[m] * STRIP_WIDTH + STRIP_WIDTH / 2 + marks.offset[m] - width / 2;
  const stride = Math.max(1, Math.ceil(marks.count / GAP_SAMPLES));
  const rows = new Float64Array(height);
  let best = 0;
  for (let degrees = skewDegrees - SLANT_SEARCH_DEGREES; degrees <= skewDegrees + SLANT_SEARCH_DEGREES + 1e-9; degrees += SLANT_STEP_DEGREES) {
    const slope = Math.tan((degrees * Math.PI) / 180);
    rows.fill(0);
    for (let m = 0; m < marks.count; m += stride) {
      const level = Math.round(marks.row[m] - x[m] * slope);
      if (level >= 0 && level < height) rows[level]++;
    }
    best = Math.max(best, emptyShare(rows));
  }
  return best;
}

/** The share of rows within the profile's extent (its first and last 2% of mass cut) that are nearly empty. */
function emptyShare(rows: Float64Array): number {
  let total = 0;
  for (let y = 0; y < rows.length; y++) total += rows[y];
  let first = 0;
  let last = rows.length - 1;
  for (let seen = 0; first < rows.length && seen + rows[first] <= EXTENT_TAIL * total; first++) seen += rows[first];
  for (let seen = 0; last > first && seen + rows[last] <= EXTENT_TAIL * total; last--) seen += rows[last];
  const span = last - first + 1;
  if (total === 0 || span <= 0) return 0;
  let inside = 0;
  for (let y = first; y <= last; y++) inside += rows[y];
  const empty = (EMPTY_BAND_SHARE * inside) / span;
  let gaps = 0;
  for (let y = first; y <= last; y++) if (rows[y] <= empty) gaps++;
  return gaps / span;
}

/** The column-scan edges placed as row-scan edges of the transposed plane (height x width). */
function columnEdgesAsRows(edges: EdgeSamples, width: number, height: number): EdgeSamples {
  const count = edges.count - edges.rowEdges;
  const position = new Int32Array(count);
  for (let e = 0; e < count; e++) {
    const at = edges.position[edges.rowEdges + e];
    const y = (at / width) | 0;
    position[e] = (at - y * width) * height + y;
  }
  return {
    ...edges,
    count,
    rowEdges: count,
    position,
    low: edges.low.subarray(edges.rowEdges),
    high: edges.high.subarray(edges.rowEdges),
    steepness: edges.steepness.subarray(edges.rowEdges),
  };
}

/** The strong row-scan edges as (row, strip, offset from the strip's centre). */
export interface Marks {
  count: number;
  row: Int32Array;
  strip: Int32Array;
  offset: Float32Array;
}

function strongMarks(edges: EdgeSamples, width: number): Marks {
  const strong = strongEdgeContrast(edges);
  const row = new Int32Array(edges.rowEdges);
  const strip = new Int32Array(edges.rowEdges);
  const offset = new Float32Array(edges.rowEdges);
  let count = 0;
  for (let e = 0; e < edges.rowEdges; e++) {
    if (edges.high[e] - edges.low[e] < strong) continue;
    const y = (edges.position[e] / width) | 0;
    const x = edges.position[e] - y * width;
    const s = (x / STRIP_WIDTH) | 0;
    row[count] = y;
    strip[count] = s;
    offset[count] = x - s * STRIP_WIDTH - STRIP_WIDTH / 2;
    count++;
  }
  return { count, row, strip, offset };
}

/**
 * Fills `profiles` with, per strip, the number of strong edges on each row, each edge moved up or
 * down by the skew so that a tilted line lands on one row across the strip. Returns the sum of
 * squared counts, which is highest when the lines are level (their edges pile up on few rows).
 */
function stripProfiles(marks: Marks, profiles: Float32Array, height: number, slope: number): number {
  profiles.fill(0);
  let squares = 0;
  for (let m = 0; m < marks.count; m++) {
    const level = Math.round(marks.row[m] - marks.offset[m] * slope);
    if (level < 0 || level >= height) continue;
    const at = marks.strip[m] * height + level;
    squares += 2 * profiles[at] + 1;
    profiles[at]++;
  }
  return squares;
}

/** Strips holding fewer edges than this share of the busiest add noise, not lines, and cost time. */
export const STRIP_SHARE = 0.25;

/** The strip profiles of a set of marks, sheared by a slope: how peaky they are, and their autocorrelation. */
export interface StripProfiles {
  peakiness(slope: number): number;
  autocorrelation(slope: number, lags: number): { correlation: Float64Array; energy: number };
}

/** Makes the strip profiles of `marks` (the reference below, or the same in WebAssembly, valid until the kernels' next pass). */
export type StripProfiler = (marks: Marks, strips: number, height: number) => StripProfiles;

export function stripProfiler(marks: Marks, strips: number, height: number): StripProfiles {
  const profiles = new Float32Array(strips * height);
  return {
    peakiness: (slope) => stripProfiles(marks, profiles, height, slope),
    autocorrelation: (slope, lags) => {
      stripProfiles(marks, profiles, height, slope);
      return autocorrelation(profiles, strips, height, lags);
    },
  };
}

/**
 * Autocorrelation of the mean-removed strip profiles, summed over the busier strips, with their
 * energy (the value at lag 0), smoothed [1 2 1] / 4 so one peak split by rounding counts once.
 */
function autocorrelation(profiles: Float32Array, strips: number, height: number, lags: number): { correlation: Float64Array; energy: number } {
  const sums = new Float64Array(strips);
  for (let s = 0; s < strips; s++) {
    for (let y = s * height, end = y + height; y < end; y++) sums[s] += profiles[y];
  }
  const busiest = Math.max(...sums);
  const raw = new Float64Array(lags + 2);
  let energy = 0;
  for (let s = 0; s < strips; s++) {
    if (sums[s] === 0 || sums[s] < STRIP_SHARE * busiest) continue;
    const offset = s * height;
    const mean = sums[s] / height;
    for (let y = offset; y < offset + height; y++) {
      profiles[y] -= mean;
      energy += profiles[y] * profiles[y];
    }
    for (let lag = 1; lag <= lags + 1; lag++) {
      let sum = 0;
      for (let y = offset, end = offset + height - lag; y < end; y++) sum += profiles[y] * profiles[y + lag];
      raw[lag] += sum;
    }
  }
  raw[0] = energy;
  const correlation = new Float64Array(lags + 1);
  for (let lag = 1; lag <= lags; lag++) correlation[lag] = (raw[lag - 1] + 2 * raw[lag] + raw[lag + 1]) / 4;
  return { correlation, energy };
}

/**
 * Half the contrast of the strongest edges (90th percentile): the ink's own edges, not the
 * ringing JPEG leaves between lines of small print, which would fill the gaps between lines.
 */
function strongEdgeContrast(edges: EdgeSamples): number {
  const contrast = new Float32Array(edges.rowEdges);
  for (let e = 0; e < edges.rowEdges; e++) contrast[e] = edges.high[e] - edges.low[e];
  return binnedQuantile(contrast, 0.9, 256) * STRONG_EDGE_SHARE;
}
