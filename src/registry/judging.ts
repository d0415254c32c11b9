import { VisionopsError } from '../core/errors.js';
import { wilsonInterval, type Interval } from '../review/stats.js';
import type { ModelStore } from '../store/store.js';
import type { RunStage } from './types.js';

/** The latest runs percentiles and agreement are computed over. */
const FIGURES_LIMIT = 20_000;

/** A rate with its 95% Wilson interval (null without trials). */
export interface Rate {
  count: number;
  of: number;
  rate: number | null;
  interval: Interval | null;
}

/** How one version did in one stage since a time. */
export interface VersionFigures {
  model: string;
  version: string;
  stage: RunStage;
  since: string;
  runs: number;
  errorRate: Rate;
  acceptRate: Rate;
  reviewRate: Rate;
  rejectRate: Rate;
  /** Answered reviews (not unusable) of its predictions that a person corrected. */
  overrideRate: Rate;
  /** Audits of its accepted predictions that a person confirmed as read. */
  auditedAccuracy: Rate;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  /** Shadows: mean agreement with the answer given on the same images, with a normal 95% interval. */
  agreement: { mean: number; interval: Interval; runs: number } | null;
}

function rate(count: number, of: number): Rate {
  return { count, of, rate: of === 0 ? null : count / of, interval: wilsonInterval(count, of) };
}

/** The q-quantile (0..1) of values, nearest rank; null for none. */
export function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** A version's figures in a stage since `since`, from the runs the router kept and the reviews of their predictions. */
export async function versionFigures(store: ModelStore, model: string, version: string, stage: RunStage, since: string): Promise<VersionFigures> {
  const [tally, figures] = await Promise.all([store.runTally(model, version, stage, since), store.runFigures(model, version, stage, since, FIGURES_LIMIT)]);
  const decided = tally.runs - tally.failed;
  const { agreements, latencies } = figures;
  let agreement: VersionFigures['agreement'] = null;
  if (agreements.length > 0) {
    const mean = agreements.reduce((a, b) => a + b, 0) / agreements.length;
    const variance = agreements.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, agreements.length - 1);
    const half = 1.96 * Math.sqrt(variance / agreements.length);
    agreement = { mean, interval: { low: Math.max(0, mean - half), high: Math.min(1, mean + half), confidence: 0.95 }, runs: agreements.length };
  }
  return {
    model,
    version,
    stage,
    since,
    runs: tally.runs,
    errorRate: rate(tally.failed, tally.runs),
    acceptRate: rate(tally.accept, decided),
    reviewRate: rate(tally.review, decided),
    rejectRate: rate(tally.reject, decided),
    overrideRate: rate(tally.corrected, tally.answered),
    auditedAccuracy: rate(tally.auditConfirmed, tally.audited),
    latencyMs: { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), p99: quantile(latencies, 0.99) },
    agreement,
  };
}

/** A candidate beside production over the same time: since the candidate entered its stage. */
export interface Comparison {
  model: string;
  candidate: VersionFigures;
  production: VersionFigures;
}

/**
 * `GET /v1/models/:model/compare?candidate=V`: the candidate (canary or shadow, or a version
 * switched off, judged over its last stage) and production, both since the candidate's stage began.
 */
export async function compareVersions(store: ModelStore, model: string, candidate: string): Promise<Comparison> {
  const assignments = await store.assignments(model);
  const production = assignments.find((a) => a.stage === 'production');
  if (production === undefined) throw new VisionopsError('MODEL_VERSION_NOT_FOUND', `There is no model ${model} in production: name one visionops models list shows.`, { model });
  const trial = assignments.find((a) => a.version === candidate) ?? (await store.stageHistory(model, 1000)).find((e) => e.version === candidate && e.stage !== 'off');
  if (trial === undefined || (await store.version(model, candidate)) === null) {
    throw new VisionopsError('MODEL_VERSION_NOT_FOUND', `${model}@${candidate} has never run as a canary or shadow: put it in a stage first (visionops models stage).`, { model, version: candidate });
  }
  const stage: RunStage = trial.stage === 'off' ? 'shadow' : trial.stage;
  const since = trial.since;
  const [figures, reference] = await Promise.all([versionFigures(store, model, candidate, stage, since), versionFigures(store, model, production.version, 'production', since)]);
  return { model, candidate: figures, production: reference };
}
