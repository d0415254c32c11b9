import type { RuleVerdict } from '../core/monitor/alerts.js';
import type { DriftReport } from '../core/monitor/drift.js';
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
  overrides: { modelVersion: string; reviews: number; rate: number }[];
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

/**
 * The verdict of every enabled rule on `inputs`. A rule without enough data yet gives no verdict,
 * so it neither fires nor resolves on a handful of images.
 */
export function evaluateRules(rules: MonitorConfig['alerts'], inputs: AlertInputs): RuleVerdict[] {
  const verdicts: RuleVerdict[] = [];
  if (rules.drift.enabled && inputs.driftEvaluated && inputs.drift !== null) {
    const drift = inputs.drift;
    const { active, cleanEvaluations, clearAfter } = inputs.driftState;
    const top = drift.features[0];
    const largest = top ? `: largest PSI ${top.psi.toFixed(2)} on ${top.feature}` : '';
    const drifted = drift.features.filter((f) => f.drifted);
    verdicts.push({
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
    });
  }
  const outlier = rules.outlierRate;
  if (outlier.enabled && inputs.outlierRate.images >= outlier.window) {
    const { rate, images } = inputs.outlierRate;
    verdicts.push({
      rule: 'outlierRate',
      firing: rate > outlier.threshold,
      message: `${pct(rate)} of the last ${images} images are outliers (threshold ${pct(outlier.threshold)}; about 1% of reference images are).`,
      details: { rate, images, threshold: outlier.threshold },
    });
  }
  const errors = rules.errorRate;
  if (errors.enabled && inputs.errorRate.events >= errors.window) {
    const { rate, events } = inputs.errorRate;
    verdicts.push({
      rule: 'errorRate',
      firing: rate > errors.threshold,
      message: `${pct(rate)} of the last ${events} predictions failed with an error (threshold ${pct(errors.threshold)}).`,
      details: { rate, events, threshold: errors.threshold },
    });
  }
  if (rules.rateShift.enabled) {
    const shifted = Object.entries(inputs.shifts).filter(([, s]) => s.shifted);
    const judged = Object.values(inputs.shifts).some((s) => s.events >= 2);
    if (judged) {
      verdicts.push({
        rule: 'rateShift',
        firing: shifted.length > 0,
        message:
          shifted.length > 0
            ? `Sudden change: ${shifted.map(([kind, s]) => `${kind} rate ${pct(s.baseline)} -> ${pct(s.rate)} (z ${s.z.toFixed(1)})`).join('; ')}.`
            : 'Reject, review and error rates are steady.',
        details: Object.fromEntries(Object.entries(inputs.shifts).map(([kind, s]) => [kind, { rate: s.rate, baseline: s.baseline, z: s.z }])),
      });
    }
  }
  const latency = rules.latency;
  if (latency.enabled && inputs.latencies.length >= Math.min(latency.window, 20)) {
    const recent = inputs.latencies.slice(-latency.window).sort((a, b) => a - b);
    const value = recent[Math.min(recent.length - 1, Math.ceil(latency.percentile * recent.length) - 1)];
    const name = `p${Math.round(latency.percentile * 100)}`;
    verdicts.push({
      rule: 'latency',
      firing: value > latency.thresholdMs,
      message: `Prediction latency ${name} is ${value.toFixed(0)} ms over the last ${recent.length} predictions (threshold ${latency.thresholdMs} ms).`,
      details: { percentile: latency.percentile, valueMs: value, predictions: recent.length, thresholdMs: latency.thresholdMs },
    });
  }
  if (rules.queueDepth.enabled) {
    verdicts.push({
      rule: 'queueDepth',
      firing: inputs.queueDepth > rules.queueDepth.threshold,
      message: `${inputs.queueDepth} predictions are waiting for a model (threshold ${rules.queueDepth.threshold}).`,
      details: { depth: inputs.queueDepth, threshold: rules.queueDepth.threshold },
    });
  }
  const override = rules.overrideRate;
  if (override.enabled) {
    const judged = inputs.overrides.filter((o) => o.reviews >= override.minReviews);
    if (judged.length > 0) {
      const over = judged.filter((o) => o.rate > override.threshold);
      verdicts.push({
        rule: 'overrideRate',
        firing: over.length > 0,
        message:
          over.length > 0
            ? `People overrode the model in ${over.map((o) => `${pct(o.rate)} of the last ${o.reviews} reviews of ${o.modelVersion}`).join('; ')} (threshold ${pct(override.threshold)}).`
            : `Override rates are under ${pct(override.threshold)}.`,
        details: { byModelVersion: judged, threshold: override.threshold },
      });
    }
  }
  return verdicts;
}
