/** Ascending copy. */
export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Linear-interpolated quantile of ascending `values` (the R-7 / NumPy default). */
export function quantileOf(ascending: readonly number[], q: number): number {
  if (ascending.length === 0) return Number.NaN;
  const position = (ascending.length - 1) * Math.min(1, Math.max(0, q));
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return ascending[low] + (ascending[high] - ascending[low]) * (position - low);
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? Number.NaN : sum / values.length;
}

/**
 * Bin edges at the reference's quantiles, ties merged, so each bin holds about the same share of
 * the reference and a feature with few distinct values (lines per page) gets one bin per value.
 */
export function quantileEdges(reference: readonly number[], bins: number): number[] {
  const ascending = sorted(reference);
  const edges: number[] = [];
  for (let b = 1; b < bins; b++) {
    const edge = quantileOf(ascending, b / bins);
    if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

/** Share of `values` in each bin: (-inf, e0], (e0, e1], ..., (eLast, +inf). */
export function binShares(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) {
    let b = 0;
    while (b < edges.length && v > edges[b]) b++;
    counts[b]++;
  }
  return counts.map((c) => c / Math.max(1, values.length));
}

/**
 * Population stability index: sum over bins of (w - r) ln(w / r), with bins cut at the
 * reference's quantiles. Shares are floored at `epsilon` so an empty bin costs a finite amount.
 * Conventional reading: under 0.1 stable, 0.1-0.25 moderate, over 0.25 a real shift.
 */
export function populationStabilityIndex(reference: readonly number[], window: readonly number[], bins = 10, epsilon = 1e-4): number {
  const edges = quantileEdges(reference, bins);
  const r = binShares(reference, edges);
  const w = binShares(window, edges);
  let psi = 0;
  for (let b = 0; b < r.length; b++) {
    const rb = Math.max(epsilon, r[b]);
    const wb = Math.max(epsilon, w[b]);
    psi += (wb - rb) * Math.log(wb / rb);
  }
  return psi;
}

export interface KsResult {
  /** Largest gap between the two empirical CDFs, 0..1. */
  statistic: number;
  /** Asymptotic two-sided p-value (Kolmogorov distribution with Stephens' small-sample correction). */
  pValue: number;
}

/** Two-sample Kolmogorov-Smirnov test. */
export function kolmogorovSmirnov(a: readonly number[], b: readonly number[]): KsResult {
  if (a.length === 0 || b.length === 0) return { statistic: 0, pValue: 1 };
  const x = sorted(a);
  const y = sorted(b);
  let i = 0;
  let j = 0;
  let statistic = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    statistic = Math.max(statistic, Math.abs(i / x.length - j / y.length));
  }
  const n = Math.sqrt((x.length * y.length) / (x.length + y.length));
  return { statistic, pValue: kolmogorovSurvival((n + 0.12 + 0.11 / n) * statistic) };
}

/** P(K > t) for the Kolmogorov distribution. */
function kolmogorovSurvival(t: number): number {
  if (t < 0.2) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = 2 * (k % 2 === 1 ? 1 : -1) * Math.exp(-2 * k * k * t * t);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, sum));
}
