import type { ReviewStatus, ReviewTally } from '../core/records/review.js';

/** The two-sided 95% normal quantile. */
const Z_95 = 1.959964;

export interface Interval {
  low: number;
  high: number;
  confidence: number;
}

/**
 * Wilson's score interval for a proportion (Wilson 1927): unlike the normal approximation it
 * stays within [0, 1] and is honest for the small counts and the proportions near 1 that audits
 * of a good model produce. Null when nothing was observed.
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): Interval | null {
  if (trials === 0) return null;
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // At 0 or all successes the bound is exactly 0 or 1; floating point would leave it a hair inside.
  return {
    low: successes === 0 ? 0 : Math.max(0, centre - half),
    high: successes === trials ? 1 : Math.min(1, centre + half),
    confidence: 0.95,
  };
}

/** A model's identity and the lab metrics it was released with (a manifest's `metrics`). */
export interface LabModel {
  id: string;
  version: string;
  metrics?: Record<string, number>;
}

export interface ModelReviewStats {
  modelVersion: string;
  answered: { review: number; audit: number; unusable: number };
  /** Share of the model lines people looked at (both kinds of task) that they changed or removed. */
  override: { linesReviewed: number; linesChanged: number; rate: number | null };
  /**
   * Line accuracy of accepted results, from audit samples: a line is right when the person kept it
   * as read; lines the model missed (added by the person) count as wrong.
   */
  production: { auditedTasks: number; lines: number; correctLines: number; lineAccuracy: number | null; interval: Interval | null };
  /** `metrics.lineAccuracy` of the first model of this version whose manifest has it. */
  lab: { lineAccuracy: number | null; model: string | null };
}

export interface ReviewStats {
  tasks: Record<ReviewStatus, number>;
  models: ModelReviewStats[];
}

/** What reviews tell, per model version, beside the lab accuracy of its manifests. */
export function reviewStats(counts: Record<ReviewStatus, number>, tallies: ReviewTally[], lab: LabModel[]): ReviewStats {
  const versions = [...new Set(tallies.map((tally) => tally.modelVersion))];
  return {
    tasks: counts,
    models: versions.map((modelVersion) => {
      const review = tallies.find((tally) => tally.modelVersion === modelVersion && tally.kind === 'review');
      const audit = tallies.find((tally) => tally.modelVersion === modelVersion && tally.kind === 'audit');
      const linesReviewed = (review?.linesReviewed ?? 0) + (audit?.linesReviewed ?? 0);
      const linesChanged = (review?.linesChanged ?? 0) + (audit?.linesChanged ?? 0);
      const auditedLines = (audit?.linesReviewed ?? 0) + (audit?.linesAdded ?? 0);
      const correctLines = (audit?.linesReviewed ?? 0) - (audit?.linesChanged ?? 0);
      return {
        modelVersion,
        answered: { review: review?.answered ?? 0, audit: audit?.answered ?? 0, unusable: (review?.unusable ?? 0) + (audit?.unusable ?? 0) },
        override: { linesReviewed, linesChanged, rate: linesReviewed === 0 ? null : linesChanged / linesReviewed },
        production: {
          auditedTasks: audit?.answered ?? 0,
          lines: auditedLines,
          correctLines,
          lineAccuracy: auditedLines === 0 ? null : correctLines / auditedLines,
          interval: wilsonInterval(correctLines, auditedLines),
        },
        lab: labAccuracy(modelVersion, lab),
      };
    }),
  };
}

function labAccuracy(modelVersion: string, lab: LabModel[]): ModelReviewStats['lab'] {
  for (const name of modelVersion.split(' + ')) {
    const model = lab.find((candidate) => `${candidate.id}@${candidate.version}` === name);
    const value = model?.metrics?.lineAccuracy;
    if (value !== undefined) return { lineAccuracy: value, model: name };
  }
  return { lineAccuracy: null, model: null };
}
