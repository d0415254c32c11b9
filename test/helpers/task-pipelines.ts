import type { DecisionOutcome } from '../../src/core/decision/document.js';
import { gateSettingsSchema } from '../../src/core/quality/gate-settings.js';
import type { QualityReport } from '../../src/core/quality/types.js';
import type { ClassificationResult, DetectionResult, TaskResult } from '../../src/core/records/prediction.js';
import type { Pipeline } from '../../src/pipeline/contract.js';
import { CLASSIFIER, DETECTOR } from './task-review.js';

/** Reject what the gate refused; send the rest to review when its best score is under `acceptAbove`. */
function scoreRule(best: (result: TaskResult) => number, acceptAbove: number): Pipeline['decision'] {
  return {
    rule(quality: QualityReport, result: TaskResult | null): DecisionOutcome {
      if (quality.verdict === 'fail' || result === null) {
        return { decision: 'reject', reasons: quality.checks.filter((c) => c.verdict === 'fail').map((c) => ({ code: `QUALITY_FAILED:${c.name}`, message: c.guidance ?? '' })) };
      }
      const score = best(result);
      return score >= acceptAbove ? { decision: 'accept', reasons: [] } : { decision: 'review', reasons: [{ code: 'LOW_CONFIDENCE', message: `best score ${score.toFixed(2)}` }] };
    },
    judged: () => ({ acceptAbove }),
  };
}

/**
 * Model-less pipelines of the two model tasks, gated as scenes against a 224 x 224 input: they
 * answer `result` for every image, as a manifest pipeline would after its model.
 */
export function fixedClassifier(name: string, result: ClassificationResult): Pipeline {
  return {
    name,
    task: 'classification',
    version: 'stub',
    models: [CLASSIFIER],
    stages: [],
    gate: gateSettingsSchema.parse({ content: 'scene', modelInput: { width: 224, height: 224 } }),
    decision: scoreRule((r) => ('labels' in r ? (r.labels[0]?.score ?? 0) : 0), 0.9),
    async run() {
      return result;
    },
    replay() {},
    async close() {},
  };
}

export function fixedDetector(name: string, result: DetectionResult): Pipeline {
  return {
    ...fixedClassifier(name, { labels: [] }),
    task: 'detection',
    models: [DETECTOR],
    decision: scoreRule((r) => ('boxes' in r ? Math.min(1, ...r.boxes.map((b) => b.score)) : 0), 0.9),
    async run() {
      return result;
    },
  };
}
