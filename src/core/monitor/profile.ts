import { medianBandwidth } from './mmd.js';
import { descriptorScale, nearestNeighbourDistance, standardise } from './outlier.js';
import { DESCRIPTOR_NAMES } from './descriptor.js';
import { scalarFeatures, type MonitorObservation } from './features.js';
import { spreadSample } from './random.js';
import { quantileOf, sorted } from './statistics.js';

/**
 * What a model's inputs and outputs looked like when they were known good: the distribution of
 * each scalar feature and a sample of image descriptors, with the outlier threshold calibrated on
 * them. Written by `visionops profile`, or built from the first production images.
 */
export interface ReferenceProfile {
  version: 1;
  createdAt: string;
  /** Where the images came from, e.g. "folder samples/" or "first 200 production images". */
  source: string;
  images: number;
  /** Per feature, its reference values in ascending order (evenly thinned to `maxSamples`). */
  features: Record<string, number[]>;
  decisions: Record<MonitorObservation['decision'], number>;
  descriptor: {
    names: string[];
    mean: number[];
    scale: number[];
    /** Standardised reference descriptors (evenly thinned to `maxPoints`). */
    points: number[][];
    /** Squared RBF bandwidth for MMD: the median pairwise squared distance of `points`. */
    bandwidth: number;
    neighbours: number;
    /** The outlier score `outlierQuantile` of the reference stays under. */
    outlierThreshold: number;
    outlierQuantile: number;
  };
}

export interface ProfileOptions {
  source: string;
  createdAt: string;
  maxSamples: number;
  maxPoints: number;
  neighbours: number;
  outlierQuantile: number;
}

export const PROFILE_DEFAULTS: Omit<ProfileOptions, 'source' | 'createdAt'> = {
  maxSamples: 2000,
  maxPoints: 300,
  neighbours: 5,
  outlierQuantile: 0.99,
};

/**
 * @example
 * const profile = buildReferenceProfile(observations, { ...PROFILE_DEFAULTS, source: 'folder ref/', createdAt: new Date().toISOString() });
 */
export function buildReferenceProfile(observations: readonly MonitorObservation[], options: ProfileOptions): ReferenceProfile {
  const values: Record<string, number[]> = {};
  const decisions = { accept: 0, review: 0, reject: 0 };
  for (const observation of observations) {
    decisions[observation.decision]++;
    for (const [name, value] of Object.entries(scalarFeatures(observation))) (values[name] ??= []).push(value);
  }
  const features = Object.fromEntries(Object.entries(values).map(([name, list]) => [name, spreadSample(sorted(list), options.maxSamples)]));
  const descriptors = observations.map((o) => o.descriptor);
  const scale = descriptorScale(descriptors);
  const points = spreadSample(descriptors, options.maxPoints).map((d) => standardise(d, scale));
  const neighbours = Math.max(1, Math.min(options.neighbours, points.length - 1));
  // Leave-one-out distances: each reference point scored against the others, as a new image would be.
  const selfScores = sorted(points.map((p, i) => nearestNeighbourDistance(p, points, neighbours, i)));
  return {
    version: 1,
    createdAt: options.createdAt,
    source: options.source,
    images: observations.length,
    features,
    decisions,
    descriptor: {
      names: [...DESCRIPTOR_NAMES],
      ...scale,
      points,
      bandwidth: medianBandwidth(points),
      neighbours,
      outlierThreshold: quantileOf(selfScores, options.outlierQuantile),
      outlierQuantile: options.outlierQuantile,
    },
  };
}

/** The outlier score of a new image's descriptor against the profile; over `outlierThreshold` is unusual. */
export function outlierScore(profile: ReferenceProfile, descriptor: readonly number[]): number {
  const { points, neighbours } = profile.descriptor;
  return nearestNeighbourDistance(standardise(descriptor, profile.descriptor), points, neighbours);
}
