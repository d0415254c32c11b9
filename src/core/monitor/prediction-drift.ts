import { isClassificationResult, isDetectionResult, type DecisionReason, type TaskResult } from '../records/prediction.js';
import { populationStabilityIndex } from './statistics.js';

/** What prediction drift reads of one classification or detection prediction. */
export interface PredictionSummary {
  /** The top label (classification), or every box's label (detection). */
  labels: string[];
  /** The top label's score, or every box's. */
  confidences: number[];
  /** Detection: boxes found; null for classification. */
  boxCount: number | null;
  /** Detection: each box's area as a share of the image's. */
  boxAreas: number[];
  /**
   * The model was unsure (a LOW_CONFIDENCE or BELOW_REJECT_THRESHOLD reason): a rising share of
   * these is how a category the model was never trained on shows up.
   */
  unsure: boolean;
}

/** Reason codes that say the model was unsure (src/core/decision/model.ts). */
const UNSURE_CODES = new Set(['LOW_CONFIDENCE', 'BELOW_REJECT_THRESHOLD']);

/** A recorded prediction's summary; null for documents and for images the gate stopped. */
export function summarizePrediction(result: TaskResult | null, reasons: readonly DecisionReason[], image: { width: number; height: number }): PredictionSummary | null {
  if (result === null) return null;
  const unsure = reasons.some((reason) => UNSURE_CODES.has(reason.code));
  if (isDetectionResult(result)) {
    const area = Math.max(1, image.width * image.height);
    return {
      labels: result.boxes.map((box) => box.label),
      confidences: result.boxes.map((box) => box.score),
      boxCount: result.boxes.length,
      boxAreas: result.boxes.map(({ box: [x1, y1, x2, y2] }) => (Math.max(0, x2 - x1) * Math.max(0, y2 - y1)) / area),
      unsure,
    };
  }
  if (isClassificationResult(result)) {
    const top = result.labels[0];
    return { labels: top === undefined ? [] : [top.label], confidences: top === undefined ? [] : [top.score], boxCount: null, boxAreas: [], unsure };
  }
  return null;
}

export type PredictionFeature = 'label' | 'confidence' | 'box_count' | 'box_area';

export interface PredictionDriftStatus {
  pipeline: string;
  referenceImages: number;
  windowImages: number;
  /** The reference is complete and the window full: the figures can be judged. */
  ready: boolean;
  /** PSI of each feature, recent window against the reference (absent before both hold data). */
  features: { feature: PredictionFeature; psi: number }[];
  /** Share of unsure predictions in the reference and in the recent window. */
  unsure: { reference: number; window: number };
  /** Labels' shares in the reference and the window, for the dashboard and the alert's message. */
  labels: { reference: Record<string, number>; window: Record<string, number> };
}

/** Shares of each label; PSI over categories with the same floor as the numeric one. */
function shares(labels: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  for (const label of Object.keys(counts)) counts[label] /= labels.length;
  return counts;
}

function categoricalPsi(reference: Record<string, number>, window: Record<string, number>, epsilon = 1e-4): number {
  let psi = 0;
  for (const label of new Set([...Object.keys(reference), ...Object.keys(window)])) {
    const r = Math.max(epsilon, reference[label] ?? 0);
    const w = Math.max(epsilon, window[label] ?? 0);
    psi += (w - r) * Math.log(w / r);
  }
  return psi;
}

const unsureShare = (summaries: PredictionSummary[]) => (summaries.length === 0 ? 0 : summaries.filter((s) => s.unsure).length / summaries.length);

/**
 * Prediction drift of one pipeline: its first `referenceImages` predictions are the reference,
 * its last `windowImages` the window, compared by PSI on the label distribution, the confidence,
 * and for detectors the box count and the boxes' relative size; and the share of unsure
 * predictions in each (new-category emergence).
 *
 * @example
 * const drift = new PredictionDrift('defects', { referenceImages: 200, windowImages: 100, bins: 10 });
 * drift.observe(summary); drift.status().features // [{ feature: 'label', psi: 0.41 }, ...]
 */
export class PredictionDrift {
  private readonly reference: PredictionSummary[] = [];
  private readonly window: PredictionSummary[] = [];

  constructor(
    readonly pipeline: string,
    private readonly options: { referenceImages: number; windowImages: number; bins: number },
  ) {}

  observe(summary: PredictionSummary): void {
    if (this.reference.length < this.options.referenceImages) {
      this.reference.push(summary);
      return;
    }
    this.window.push(summary);
    if (this.window.length > this.options.windowImages) this.window.shift();
  }

  status(): PredictionDriftStatus {
    const { reference, window } = this;
    const referenceLabels = shares(reference.flatMap((s) => s.labels));
    const windowLabels = shares(window.flatMap((s) => s.labels));
    const features: PredictionDriftStatus['features'] = [];
    if (reference.length > 0 && window.length > 0) {
      const numeric = (feature: PredictionFeature, values: (s: PredictionSummary) => number[]) => {
        const r = reference.flatMap(values);
        const w = window.flatMap(values);
        if (r.length > 0 && w.length > 0) features.push({ feature, psi: populationStabilityIndex(r, w, this.options.bins) });
      };
      features.push({ feature: 'label', psi: categoricalPsi(referenceLabels, windowLabels) });
      numeric('confidence', (s) => s.confidences);
      numeric('box_count', (s) => (s.boxCount === null ? [] : [s.boxCount]));
      numeric('box_area', (s) => s.boxAreas);
    }
    return {
      pipeline: this.pipeline,
      referenceImages: reference.length,
      windowImages: window.length,
      ready: reference.length >= this.options.referenceImages && window.length >= this.options.windowImages,
      features,
      unsure: { reference: unsureShare(reference), window: unsureShare(window) },
      labels: { reference: referenceLabels, window: windowLabels },
    };
  }
}
