/**
 * The value below which `fraction` of `values` lie, from a histogram of `bins` bins over
 * [0, max]: exact to max / bins, and linear in the count where a sort would not be.
 */
export function binnedQuantile(values: Float32Array, fraction: number, max: number, bins = 4096): number {
  if (values.length === 0) return 0;
  const counts = new Uint32Array(bins);
  const perBin = bins / max;
  for (let i = 0; i < values.length; i++) {
    const b = (values[i] * perBin) | 0;
    counts[b < bins ? b : bins - 1]++;
  }
  const target = fraction * values.length;
  let seen = 0;
  for (let b = 0; b < bins; b++) {
    if (counts[b] > 0 && seen + counts[b] >= target) return (b + (target - seen) / counts[b]) / perBin;
    seen += counts[b];
  }
  return max;
}
