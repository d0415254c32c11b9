import { isDocumentResult, type ModelLineage } from '../../core/records/prediction.js';
import type { PredictionObserver, RecordedPrediction } from '../../pipeline/runner.js';
import type { MonitorMetrics } from '../metrics.js';
import { keepRecent } from '../recent.js';

/** Recent gate scores kept per check, for the dashboard's distributions. */
const RECENT_SCORES = 2000;

export function modelLabel(model: ModelLineage): string {
  return `${model.id}@${model.version}`;
}

/**
 * What each recorded prediction says about the traffic: images and decisions per pipeline, the
 * time of each stage with the model that ran in it, the gate's scores and verdicts, and the
 * models' confidence.
 */
export class PredictionMetrics implements PredictionObserver {
  /** Recent scores of each gate check, oldest first. */
  readonly qualityValues = new Map<string, number[]>();

  constructor(private readonly metrics: MonitorMetrics) {}

  recorded({ record }: RecordedPrediction): void {
    const { metrics } = this;
    const pipeline = record.lineage.pipeline.id;
    metrics.images.inc({ pipeline });
    metrics.decisions.inc({ pipeline, decision: record.decision });
    for (const [stage, ms] of Object.entries(record.timings)) {
      // The total is its own metric.
      if (stage === 'total') continue;
      const model = record.lineage.models.find((m) => m.stage === stage);
      metrics.stageDuration.observe({ pipeline, stage, model: model === undefined ? 'none' : modelLabel(model) }, ms / 1000);
    }
    for (const check of record.quality.checks) {
      metrics.qualityScore.observe({ check: check.name }, check.score);
      metrics.qualityVerdicts.inc({ check: check.name, verdict: check.verdict });
      const values = this.qualityValues.get(check.name) ?? [];
      keepRecent(values, check.score, RECENT_SCORES);
      this.qualityValues.set(check.name, values);
    }
    const lines = record.result !== null && isDocumentResult(record.result) ? record.result.lines : [];
    for (const line of lines) metrics.confidence.observe({ pipeline, level: 'line' }, line.confidence);
    if (lines.length > 0) metrics.confidence.observe({ pipeline, level: 'page_min' }, Math.min(...lines.map((l) => l.confidence)));
  }
}
