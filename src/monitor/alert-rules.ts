import type { RuleVerdict } from '../core/monitor/alerts.js';
import type { DriftReport } from '../core/monitor/drift.js';
import type { PredictionDriftStatus } from '../core/monitor/prediction-drift.js';
import type { RateShift } from '../core/monitor/rate-shift.js';
import type { MonitorConfig } from './config.js';

/** What the alert rules read: the monitor's figures at one moment. */
export interface AlertInputs {
  drift: DriftReport | null;
  /** Set only when a drift evaluation just ran, so the rule keeps its state between evaluations. */
  driftEvaluated: boolean;
  /** Drift stays on until `clearAfter` evaluations in a row find none. */
  driftState: { active: boolean; cleanEvaluations: number; clearAfter: number };
  outlierRate: { rate: number; images: number };
  errorRate: { rate: number; events: number };
  shifts: Record<'reject' | 'review' | 'error', RateShift>;
  /** Prediction latencies (ms) of the most recent predictions, oldest first. */
  latencies: number[];
  queueDepth: number;
  /** The job queue's latest reading, when this process watches one. */
  jobs?: JobQueueInputs | null;
  overrides: { modelVersion: string; reviews: number; rate: number }[];
  /** Classification and detection pipelines' prediction drift; absent where none runs. */
  predictionDrift?: PredictionDriftStatus[];
}

export interface JobQueueInputs {
  waiting: number;
  oldestWaitingSeconds: number;
  /** Images dead-lettered within `jobDeadLetters.windowSeconds`. */
  recentDeadLetters: number;
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

type Rules = MonitorConfig['alerts'];

/** One alert rule: its name, and its verdict on the monitor's figures, or null when it is off or has too little data to judge. */
export interface AlertRule {
  name: string;
  evaluate(rules: Rules, inputs: AlertInputs): RuleVerdict | null;
}

/** Every alert rule, in the order their verdicts are applied. A new rule is one more entry here (and its settings in config.ts). */
export const ALERT_RULES: AlertRule[] = [
  {
    name: 'drift',
    evaluate(rules, { drift, driftEvaluated, driftState }) {
      if (!rules.drift.enabled || !driftEvaluated || drift === null) return null;
      const { active, cleanEvaluations, clearAfter } = driftState;
      const top = drift.features[0];
      const largest = top ? `: largest PSI ${top.psi.toFixed(2)} on ${top.feature}` : '';
      const drifted = drift.features.filter((f) => f.drifted);
      return {
        rule: 'drift',
        firing: active,
        message:
          drift.message ??
          (active
            ? `Drift easing: ${cleanEvaluations} of the ${clearAfter} evaluations in a row needed to resolve found none${largest}.`
            : `No drift over the last ${drift.images} images in ${clearAfter} evaluations in a row${largest}.`),
        details: {
          images: drift.images,
          features: (drifted.length > 0 ? drifted : drift.features.slice(0, 3)).map((f) => ({
            feature: f.feature,
            psi: f.psi,
            ks: f.ks,
            pValue: f.pValue,
            referenceMedian: f.referenceMedian,
            windowMedian: f.windowMedian,
          })),
          descriptor: drift.descriptor,
        },
      };
    },
  },
  {
    name: 'outlierRate',
    evaluate({ outlierRate: rule }, { outlierRate: { rate, images } }) {
      if (!rule.enabled || images < rule.window) return null;
      return {
        rule: 'outlierRate',
        firing: rate > rule.threshold,
        message: `${pct(rate)} of the last ${images} images are outliers (threshold ${pct(rule.threshold)}; about 1% of reference images are).`,
        details: { rate, images, threshold: rule.threshold },
      };
    },
  },
  {
    name: 'errorRate',
    evaluate({ errorRate: rule }, { errorRate: { rate, events } }) {
      if (!rule.enabled || events < rule.window) return null;
      return {
        rule: 'errorRate',
        firing: rate > rule.threshold,
        message: `${pct(rate)} of the last ${events} predictions failed with an error (threshold ${pct(rule.threshold)}).`,
        details: { rate, events, threshold: rule.threshold },
      };
    },
  },
  {
    name: 'rateShift',
    evaluate(rules, { shifts }) {
      if (!rules.rateShift.enabled || !Object.values(shifts).some((s) => s.events >= 2)) return null;
      const shifted = Object.entries(shifts).filter(([, s]) => s.shifted);
      return {
        rule: 'rateShift',
        firing: shifted.length > 0,
        message:
          shifted.length > 0
            ? `Sudden change: ${shifted.map(([kind, s]) => `${kind} rate ${pct(s.baseline)} -> ${pct(s.rate)} (z ${s.z.toFixed(1)})`).join('; ')}.`
            : 'Reject, review and error rates are steady.',
        details: Object.fromEntries(Object.entries(shifts).map(([kind, s]) => [kind, { rate: s.rate, baseline: s.baseline, z: s.z }])),
      };
    },
  },
  {
    name: 'latency',
    evaluate({ latency: rule }, { latencies }) {
      if (!rule.enabled || latencies.length < Math.min(rule.window, 20)) return null;
      const recent = latencies.slice(-rule.window).sort((a, b) => a - b);
      const value = recent[Math.min(recent.length - 1, Math.ceil(rule.percentile * recent.length) - 1)];
      const name = `p${Math.round(rule.percentile * 100)}`;
      return {
        rule: 'latency',
        firing: value > rule.thresholdMs,
        message: `Prediction latency ${name} is ${value.toFixed(0)} ms over the last ${recent.length} predictions (threshold ${rule.thresholdMs} ms).`,
        details: { percentile: rule.percentile, valueMs: value, predictions: recent.length, thresholdMs: rule.thresholdMs },
      };
    },
  },
  {
    name: 'queueDepth',
    evaluate({ queueDepth: rule }, { queueDepth }) {
      if (!rule.enabled) return null;
      return {
        rule: 'queueDepth',
        firing: queueDepth > rule.threshold,
        message: `${queueDepth} predictions are waiting for a model (threshold ${rule.threshold}).`,
        details: { depth: queueDepth, threshold: rule.threshold },
      };
    },
  },
  {
    name: 'jobQueueAge',
    evaluate({ jobQueueAge: rule }, { jobs }) {
      if (!rule.enabled || jobs == null) return null;
      return {
        rule: 'jobQueueAge',
        firing: jobs.oldestWaitingSeconds > rule.thresholdSeconds,
        message: `The oldest of ${jobs.waiting} images waiting in the job queue has waited ${jobs.oldestWaitingSeconds.toFixed(0)} s (threshold ${rule.thresholdSeconds} s): add workers, or see why they stopped.`,
        details: { waiting: jobs.waiting, oldestWaitingSeconds: jobs.oldestWaitingSeconds, thresholdSeconds: rule.thresholdSeconds },
      };
    },
  },
  {
    name: 'jobDeadLetters',
    evaluate({ jobDeadLetters: rule }, { jobs }) {
      if (!rule.enabled || jobs == null) return null;
      return {
        rule: 'jobDeadLetters',
        firing: jobs.recentDeadLetters > rule.threshold,
        message: `${jobs.recentDeadLetters} images of jobs were dead-lettered in the last ${rule.windowSeconds} s (threshold ${rule.threshold}): their errors are in GET /v1/jobs/:id.`,
        details: { deadLetters: jobs.recentDeadLetters, windowSeconds: rule.windowSeconds, threshold: rule.threshold },
      };
    },
  },
  {
    name: 'overrideRate',
    evaluate({ overrideRate: rule }, { overrides }) {
      const judged = overrides.filter((o) => o.reviews >= rule.minReviews);
      if (!rule.enabled || judged.length === 0) return null;
      const over = judged.filter((o) => o.rate > rule.threshold);
      return {
        rule: 'overrideRate',
        firing: over.length > 0,
        message:
          over.length > 0
            ? `People overrode the model in ${over.map((o) => `${pct(o.rate)} of the last ${o.reviews} reviews of ${o.modelVersion}`).join('; ')} (threshold ${pct(rule.threshold)}).`
            : `Override rates are under ${pct(rule.threshold)}.`,
        details: { byModelVersion: judged, threshold: rule.threshold },
      };
    },
  },
  {
    name: 'predictionDrift',
    evaluate({ predictionDrift: rule }, { predictionDrift = [] }) {
      const judged = predictionDrift.filter((status) => status.ready);
      if (!rule.enabled || judged.length === 0) return null;
      const moved = judged.flatMap((status) => status.features.filter((f) => f.psi > rule.psi).map((f) => `${status.pipeline} ${f.feature} (PSI ${f.psi.toFixed(2)})`));
      return {
        rule: 'predictionDrift',
        firing: moved.length > 0,
        message: moved.length > 0 ? `Predictions moved from their reference: ${moved.join('; ')} (threshold ${rule.psi}).` : 'Predictions match their reference.',
        details: { pipelines: judged.map(({ pipeline, features, labels }) => ({ pipeline, features, labels })), threshold: rule.psi },
      };
    },
  },
  {
    name: 'newCategories',
    evaluate({ newCategories: rule }, { predictionDrift = [] }) {
      const judged = predictionDrift.filter((status) => status.ready);
      if (!rule.enabled || judged.length === 0) return null;
      const rising = judged.filter((status) => status.unsure.window - status.unsure.reference > rule.minIncrease);
      return {
        rule: 'newCategories',
        firing: rising.length > 0,
        message:
          rising.length > 0
            ? `The model is unsure of more images than it was: ${rising.map((s) => `${s.pipeline} ${pct(s.unsure.reference)} -> ${pct(s.unsure.window)}`).join('; ')}; look at the recent reviews for a category it was not trained on.`
            : 'The share of unsure predictions is steady.',
        details: { pipelines: judged.map(({ pipeline, unsure }) => ({ pipeline, ...unsure })), minIncrease: rule.minIncrease },
      };
    },
  },
];

/**
 * The verdict of every enabled rule on `inputs`. A rule without enough data yet gives no verdict,
 * so it neither fires nor resolves on a handful of images.
 */
export function evaluateRules(rules: Rules, inputs: AlertInputs): RuleVerdict[] {
  return ALERT_RULES.flatMap((rule) => rule.evaluate(rules, inputs) ?? []);
}
