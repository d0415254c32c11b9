import { mmdTest } from './mmd.js';
import { standardise } from './outlier.js';
import type { ReferenceProfile } from './profile.js';
import { kolmogorovSmirnov, mean, populationStabilityIndex, quantileOf, sorted } from './statistics.js';

/** Thresholds of the drift tests; defaults and their reasons in docs/monitoring.md. */
export interface DriftThresholds {
  /** PSI bins, cut at the reference's quantiles. */
  bins: number;
  /** A scalar feature drifted when its PSI exceeds this... */
  psi: number;
  /** ...and the KS test's p-value is under this. */
  ksPValue: number;
  /** Label permutations of the MMD test. */
  permutations: number;
  /** The descriptor drifted when its MMD is this many null standard deviations above the null mean... */
  mmdZ: number;
  /** ...and the squared MMD itself is at least this (a difference big enough to matter). */
  mmdMin: number;
  /** Fewer images than this in the window are not judged. */
  minImages: number;
}

export interface FeatureDrift {
  feature: string;
  psi: number;
  ks: number;
  pValue: number;
  referenceMedian: number;
  windowMedian: number;
  /** Images of the window that had this feature. */
  count: number;
  drifted: boolean;
}

export interface DescriptorDrift {
  mmd2: number;
  /** (MMD² - mean of the permutation null) / its standard deviation. */
  z: number;
  pValue: number;
  drifted: boolean;
  /** The descriptor numbers that moved most, by the shift of their window mean in reference standard deviations. */
  moved: { name: string; shift: number }[];
}

export interface DriftReport {
  images: number;
  drifted: boolean;
  /** Every feature judged, the largest PSI first. */
  features: FeatureDrift[];
  descriptor: DescriptorDrift | null;
  /** One sentence naming what moved and by how much; null when nothing did. */
  message: string | null;
}

/** A scalar feature the reference holds too few values of for the drift tests: it is never judged. */
export interface UnjudgedFeature {
  feature: string;
  referenceValues: number;
}

/** The reference's scalar features with fewer values than `minImages`, which `evaluateDrift` skips; by name. */
export function featuresTooSparseToJudge(profile: ReferenceProfile, minImages: number): UnjudgedFeature[] {
  return Object.entries(profile.features)
    .filter(([, values]) => values.length < minImages)
    .map(([feature, values]) => ({ feature, referenceValues: values.length }))
    .sort((a, b) => a.feature.localeCompare(b.feature));
}

/** One sentence for people: which features drift is blind to, and what to do about it; null when none. */
export function describeUnjudged(unjudged: readonly UnjudgedFeature[], minImages: number): string | null {
  if (unjudged.length === 0) return null;
  const listed = unjudged.map((u) => `${u.feature} (${u.referenceValues})`).join(', ');
  return (
    `${unjudged.length} scalar feature${unjudged.length === 1 ? ' has' : 's have'} fewer reference values than monitor.drift.minImages (${minImages}) ` +
    `and will not be judged for drift: ${listed}. Profile more images that have them, or lower monitor.drift.minImages.`
  );
}

export interface DriftWindow {
  features: Record<string, number>[];
  /** Raw descriptors (`describeFrame`), standardised here with the profile's scale. */
  descriptors: number[][];
}

/**
 * Compares a window of production images with the reference: PSI and KS on every scalar
 * feature, MMD with a permutation null on the descriptor.
 */
export function evaluateDrift(profile: ReferenceProfile, window: DriftWindow, thresholds: DriftThresholds, random: () => number): DriftReport {
  const features: FeatureDrift[] = [];
  for (const [feature, reference] of Object.entries(profile.features)) {
    const values = window.features.flatMap((f) => (feature in f ? [f[feature]] : []));
    if (values.length < thresholds.minImages || reference.length < thresholds.minImages) continue;
    const psi = populationStabilityIndex(reference, values, thresholds.bins);
    const ks = kolmogorovSmirnov(reference, values);
    features.push({
      feature,
      psi,
      ks: ks.statistic,
      pValue: ks.pValue,
      referenceMedian: quantileOf(reference, 0.5),
      windowMedian: quantileOf(sorted(values), 0.5),
      count: values.length,
      drifted: psi > thresholds.psi && ks.pValue < thresholds.ksPValue,
    });
  }
  features.sort((a, b) => b.psi - a.psi);
  const descriptor = window.descriptors.length >= thresholds.minImages ? descriptorDrift(profile, window.descriptors, thresholds, random) : null;
  const drifted = features.some((f) => f.drifted) || descriptor?.drifted === true;
  return { images: window.descriptors.length, drifted, features, descriptor, message: drifted ? describeDrift(features, descriptor, window.descriptors.length) : null };
}

function descriptorDrift(profile: ReferenceProfile, descriptors: number[][], thresholds: DriftThresholds, random: () => number): DescriptorDrift {
  const points = descriptors.map((d) => standardise(d, profile.descriptor));
  const test = mmdTest(profile.descriptor.points, points, {
    bandwidth: profile.descriptor.bandwidth,
    permutations: thresholds.permutations,
    random,
  });
  const moved = profile.descriptor.names
    .map((name, k) => ({ name, shift: mean(points.map((p) => p[k])) - mean(profile.descriptor.points.map((p) => p[k])) }))
    .sort((a, b) => Math.abs(b.shift) - Math.abs(a.shift))
    .slice(0, 3);
  return {
    mmd2: test.mmd2,
    z: test.z,
    pValue: test.pValue,
    drifted: test.z >= thresholds.mmdZ && test.mmd2 >= thresholds.mmdMin,
    moved,
  };
}

function describeDrift(features: FeatureDrift[], descriptor: DescriptorDrift | null, images: number): string {
  const parts = features
    .filter((f) => f.drifted)
    .slice(0, 3)
    .map((f) => `${f.feature} moved (PSI ${f.psi.toFixed(2)}, KS ${f.ks.toFixed(2)}; median ${format(f.referenceMedian)} -> ${format(f.windowMedian)})`);
  if (descriptor?.drifted) {
    const top = descriptor.moved
      .map((m) => `${m.name} ${m.shift >= 0 ? '+' : ''}${m.shift.toFixed(1)} sd`)
      .join(', ');
    parts.push(`the image descriptor moved (MMD² ${descriptor.mmd2.toFixed(3)}, z ${descriptor.z.toFixed(1)}; most: ${top})`);
  }
  return `Drift over the last ${images} images: ${parts.join('; ')}.`;
}

function format(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toFixed(3);
}
