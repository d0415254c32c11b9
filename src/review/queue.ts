import type { PredictionObserver } from '../pipeline/runner.js';
import { isDocumentResult, type PredictionRecord } from '../core/records/prediction.js';
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
      if (kind === null || record.result === null || !isDocumentResult(record.result)) return;
      const blob = record.blob ?? (await blobs.put(bytes));
      const turned = record.result.orientation.rotation % 180 !== 0;
      const modelOutput: ModelOutput = {
        lines: record.result.lines,
        rotation: record.result.orientation.rotation,
        width: turned ? image.frame.height : image.frame.width,
        height: turned ? image.frame.width : image.frame.height,
      };
      await reviews.create({ predictionId: record.id, kind, modelVersion: modelVersionOf(record), blob, modelOutput });
    },
  };
}

function kindOf(record: PredictionRecord, auditRate: number, random: () => number): ReviewKind | null {
  if (record.decision === 'review') return 'review';
  if (record.decision === 'accept' && random() < auditRate) return 'audit';
  return null;
}

/** The models that read the image, `id@version` joined by ` + `: what the statistics are grouped by. */
export function modelVersionOf(record: PredictionRecord): string {
  return record.lineage.models.map((model) => `${model.id}@${model.version}`).join(' + ');
}
