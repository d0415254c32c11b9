import { shuffle } from './random.js';
import { quantileOf, sorted } from './statistics.js';

export interface MmdResult {
  /** Unbiased squared maximum mean discrepancy under the RBF kernel. */
  mmd2: number;
  /** Share of label permutations whose MMD reached the observed one (with the +1 correction). */
  pValue: number;
  /** (mmd2 - mean of the permutation null) / its standard deviation: how far beyond chance, past what the permutations can resolve. */
  z: number;
}

function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let k = 0; k < a.length; k++) d += (a[k] - b[k]) ** 2;
  return d;
}

/**
 * Median heuristic: the RBF bandwidth is the median pairwise squared distance within the
 * reference, so the kernel neither saturates nor flattens whatever the descriptor's scale.
 */
export function medianBandwidth(points: readonly ArrayLike<number>[]): number {
  const distances: number[] = [];
  for (let i = 0; i < points.length; i++) for (let j = i + 1; j < points.length; j++) distances.push(squaredDistance(points[i], points[j]));
  const median = quantileOf(sorted(distances), 0.5);
  return median > 0 ? median : 1;
}

/**
 * Two-sample MMD test between reference and window points (already standardised), with an RBF
 * kernel of squared bandwidth `bandwidth` and a permutation null: the labels are reshuffled
 * `permutations` times over the pooled kernel matrix, which is computed once.
 */
export function mmdTest(
  reference: readonly ArrayLike<number>[],
  window: readonly ArrayLike<number>[],
  options: { bandwidth: number; permutations: number; random: () => number },
): MmdResult {
  const pooled = [...reference, ...window];
  const size = pooled.length;
  const kernel = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    kernel[i * size + i] = 1;
    for (let j = i + 1; j < size; j++) {
      const k = Math.exp(-squaredDistance(pooled[i], pooled[j]) / options.bandwidth);
      kernel[i * size + j] = k;
      kernel[j * size + i] = k;
    }
  }
  const labels = pooled.map((_, i) => i < reference.length);
  const observed = unbiasedMmd2(kernel, size, labels);
  const nulls: number[] = [];
  let atLeast = 0;
  for (let p = 0; p < options.permutations; p++) {
    const value = unbiasedMmd2(kernel, size, shuffle(labels, options.random));
    nulls.push(value);
    if (value >= observed) atLeast++;
  }
  const nullMean = nulls.reduce((a, b) => a + b, 0) / Math.max(1, nulls.length);
  const nullSd = Math.sqrt(nulls.reduce((a, b) => a + (b - nullMean) ** 2, 0) / Math.max(1, nulls.length - 1));
  return {
    mmd2: observed,
    z: nullSd > 0 ? (observed - nullMean) / nullSd : 0,
    pValue: (atLeast + 1) / (options.permutations + 1),
  };
}

function unbiasedMmd2(kernel: Float64Array, size: number, inFirst: readonly boolean[]): number {
  let xx = 0;
  let yy = 0;
  let xy = 0;
  let m = 0;
  for (const first of inFirst) if (first) m++;
  const n = size - m;
  for (let i = 0; i < size; i++) {
    const row = i * size;
    for (let j = i + 1; j < size; j++) {
      const k = kernel[row + j];
      if (inFirst[i] && inFirst[j]) xx += k;
      else if (!inFirst[i] && !inFirst[j]) yy += k;
      else xy += k;
    }
  }
  if (m < 2 || n < 2) return 0;
  return (2 * xx) / (m * (m - 1)) + (2 * yy) / (n * (n - 1)) - (2 * xy) / (m * n);
}
