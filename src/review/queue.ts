import type { PredictionObserver } from '../pipeline/runner.js';
import { isClassificationResult, isDetectionResult, type PredictionRecord, type TaskResult } from '../core/records/prediction.js';
import type { IngestedImage } from '../image/types.js';
import type { BlobStore } from '../store/store.js';
import type { ReviewStore } from '../store/store.js';
import type { ModelOutput, ReviewKind } from '../core/records/review.js';

export interface ReviewObserverDeps {
  reviews: ReviewStore;
  blobs: BlobStore;
  /** Share of accepted predictions drawn for audit (`review.auditRate`). */
  auditRate: number;
  /** Uniform in [0, 1); tests pass a seeded one. */
  random?: () => number;
}

/**
 * Creates review tasks from saved predictions: every `review` decision, and a random
 * `auditRate` share of `accept` decisions (their image is kept in the blob store too, since only
 * review decisions keep it otherwise). Rejected images have no model output to review.
 *
 * @example
 * const service = createPredictionService({ ..., observers: [createReviewObserver({ reviews, blobs, auditRate: 0.02 })] });
 */
export function createReviewObserver({ reviews, blobs, auditRate, random = Math.random }: ReviewObserverDeps): PredictionObserver {
  return {
    async recorded({ record, bytes, image }) {
      const kind = kindOf(record, auditRate, random);
      if (kind === null || record.result === null) return;
      const blob = record.blob ?? (await blobs.put(bytes));
      const modelOutput = modelOutputOf(record.result, image);
      await reviews.create({ predictionId: record.id, kind, modelVersion: modelVersionOf(record), blob, modelOutput });
    },
  };
}

/**
 * What the reviewer is shown of the model's answer, in the coordinates of the image the review
 * page draws: a document's lines on the page turned upright; a classification's candidates or a
 * detection's boxes on the image as ingest oriented it (boxes are in its pixels already).
 */
function modelOutputOf(result: TaskResult, image: IngestedImage): ModelOutput {
  const { width, height } = image.frame;
  if (isClassificationResult(result)) return { lines: [], labels: result.labels, rotation: 0, width, height };
  if (isDetectionResult(result)) return { lines: [], boxes: result.boxes, rotation: 0, width, height };
  const turned = result.orientation.rotation % 180 !== 0;
  return {
    lines: result.lines,
    rotation: result.orientation.rotation,
    width: turned ? height : width,
    height: turned ? width : height,
  };
}

function kindOf(record: PredictionRecord, auditRate: number, random: () => number): ReviewKind | null {
  if (record.decision === 'review') return 'review';
  if (record.decision === 'accept' && random() < auditRate) return 'audit';
  return null;
}

/**
 * The models that read the image, `id@version` joined by ` + `: what the statistics are grouped by.
 * A reading made on the device (policy `device`: the cloud ran no model) is the device's models',
 * each marked `device:`, so its production accuracy is measured apart from the cloud's.
 */
export function modelVersionOf(record: PredictionRecord): string {
  if (record.lineage.models.length === 0 && record.lineage.edge?.models !== undefined) {
    return record.lineage.edge.models.map((model) => `device:${model.id}@${model.version}`).join(' + ');
  }
  return record.lineage.models.map((model) => `${model.id}@${model.version}`).join(' + ');
}
