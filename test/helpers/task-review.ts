import type { ClassificationResult, DetectionResult, PredictionRecord } from '../../src/core/records/prediction.js';
import type { ReviewKind, ReviewTask } from '../../src/core/records/review.js';
import { ingestConfigSchema } from '../../src/image/config.js';
import { ingestImage } from '../../src/image/ingest.js';
import { createReviewObserver, modelVersionOf } from '../../src/review/queue.js';
import { record } from '../fixtures/records.js';
import type { ReviewFixture } from './review.js';

export const CLASSIFIER = { role: 'classifier', stage: 'classification', id: 'defects', version: '2.1.0', sha256: 'a'.repeat(64), preprocessHash: 'b'.repeat(64) };
export const DETECTOR = { role: 'detector', stage: 'detection', id: 'parts-yolo', version: '1.0.0', sha256: 'c'.repeat(64), preprocessHash: 'd'.repeat(64) };

/**
 * A saved classification or detection prediction and the review task the real review observer
 * makes of it, from the image as ingest decodes it: what a manifest pipeline's `review` decision
 * leads to, without its model. `kind: 'audit'` records an accepted prediction drawn for audit.
 */
export async function seedModelTask(fixture: ReviewFixture, image: Buffer, result: ClassificationResult | DetectionResult, kind: ReviewKind = 'review'): Promise<ReviewTask> {
  const ingested = await ingestImage(image, ingestConfigSchema.parse({}));
  const base = record(kind === 'review' ? 'review' : 'accept');
  const model = 'labels' in result ? CLASSIFIER : DETECTOR;
  const saved: PredictionRecord = {
    ...base,
    image: { ...base.image, width: ingested.width, height: ingested.height },
    reasons: kind === 'review' ? [{ code: 'LOW_CONFIDENCE', message: 'The model was unsure.' }] : [],
    result,
    lineage: { ...base.lineage, pipeline: { id: model.id, version: '1.0.0' }, models: [model] },
    blob: null,
  };
  await fixture.predictions.save(saved);
  const observer = createReviewObserver({ reviews: fixture.reviews, blobs: fixture.blobs, auditRate: kind === 'audit' ? 1 : 0 });
  await observer.recorded({ record: saved, bytes: image, image: ingested, frame: ingested.frame, gray: ingested.luma });
  const task = (await fixture.reviews.list({ limit: 200 })).find((candidate) => candidate.predictionId === saved.id);
  if (task === undefined) throw new Error(`the observer made no task for ${modelVersionOf(saved)}`);
  return task;
}
