/** Reference statistics that put descriptors on one scale: each number in reference standard deviations. */
export interface DescriptorScale {
  mean: number[];
  scale: number[];
}

/**
 * Below this spread a descriptor number counts as constant in the reference: a change smaller
 * than 2% of its 0..1 range is not worth calling unusual (a greyscale page's chroma, say).
 */
const MIN_SCALE = 0.02;

export function descriptorScale(descriptors: readonly number[][]): DescriptorScale {
  const dims = descriptors[0]?.length ?? 0;
  const mean = new Array<number>(dims).fill(0);
  const scale = new Array<number>(dims).fill(0);
  for (const d of descriptors) for (let k = 0; k < dims; k++) mean[k] += d[k] / descriptors.length;
  for (const d of descriptors) for (let k = 0; k < dims; k++) scale[k] += (d[k] - mean[k]) ** 2 / Math.max(1, descriptors.length - 1);
  return { mean, scale: scale.map((v) => Math.max(MIN_SCALE, Math.sqrt(v))) };
}

export function standardise(descriptor: readonly number[], { mean, scale }: DescriptorScale): number[] {
  return descriptor.map((v, k) => (v - mean[k]) / scale[k]);
}

/**
 * Outlier score: mean Euclidean distance to the `k` nearest reference points (standardised).
 * `skip` leaves one reference point out, to calibrate on the reference itself.
 */
export function nearestNeighbourDistance(point: readonly number[], reference: readonly number[][], k: number, skip = -1): number {
  const nearest: number[] = [];
  for (let i = 0; i < reference.length; i++) {
    if (i === skip) continue;
    let d = 0;
    const r = reference[i];
    for (let j = 0; j < point.length; j++) d += (point[j] - r[j]) ** 2;
    if (nearest.length < k) {
      nearest.push(d);
      nearest.sort((a, b) => a - b);
    } else if (d < nearest[k - 1]) {
      nearest[k - 1] = d;
      nearest.sort((a, b) => a - b);
    }
  }
  if (nearest.length === 0) return 0;
  let sum = 0;
  for (const d of nearest) sum += Math.sqrt(d);
  return sum / nearest.length;
}
