import { PredictionDrift, summarizePrediction, type PredictionDriftStatus } from '../../core/monitor/prediction-drift.js';
import type { PredictionObserver, RecordedPrediction } from '../../pipeline/runner.js';
import type { MonitorConfig } from '../config.js';
import type { MonitorMetrics } from '../metrics.js';

/** PSI bins of the numeric prediction features, as the input drift uses. */
const BINS = 10;

/**
 * Prediction drift and new-category emergence of every classification and detection pipeline:
 * each recorded prediction's labels, confidences and boxes, per pipeline, into the gauges
 * `visionops_prediction_drift_psi` and `visionops_unsure_share`, and into the alert rules.
 */
export class PredictionDriftWatch implements PredictionObserver {
  private readonly pipelines = new Map<string, PredictionDrift>();

  constructor(
    private readonly metrics: MonitorMetrics,
    private readonly settings: MonitorConfig['alerts']['predictionDrift'],
  ) {}

  recorded({ record }: RecordedPrediction): void {
    const summary = summarizePrediction(record.result, record.reasons, record.image);
    if (summary === null) return;
    const pipeline = record.lineage.pipeline.id;
    let drift = this.pipelines.get(pipeline);
    if (drift === undefined) {
      drift = new PredictionDrift(pipeline, { referenceImages: this.settings.referenceImages, windowImages: this.settings.windowImages, bins: BINS });
      this.pipelines.set(pipeline, drift);
    }
    drift.observe(summary);
    const status = drift.status();
    for (const { feature, psi } of status.features) this.metrics.predictionDriftPsi.set({ pipeline, feature }, psi);
    this.metrics.unsureShare.set({ pipeline, window: 'reference' }, status.unsure.reference);
    this.metrics.unsureShare.set({ pipeline, window: 'recent' }, status.unsure.window);
  }

  /** Every pipeline's figures, for the alert rules and the dashboard. */
  statuses(): PredictionDriftStatus[] {
    return [...this.pipelines.values()].map((drift) => drift.status());
  }
}
