import { VisionopsError } from '../../core/errors.js';
import type { BlobStore } from '../../store/store.js';
import { labelledLines, type LabelledLine } from '../answer.js';
import type { IngestConfig } from '../../image/config.js';
import { renderJpeg } from '../../image/render.js';
import type { ReviewStore } from '../../store/store.js';
import { outputTask, type ReviewTask } from '../../core/records/review.js';

/** One reviewed page ready to be written: its upright image and the lines as people left them. */
export interface DatasetItem {
  task: ReviewTask;
  /** The page turned as the model read it (JPEG), the frame the boxes are in. */
  image: Buffer;
  /** File name inside the export, from the prediction id. */
  name: string;
  width: number;
  height: number;
  lines: LabelledLine[];
}

export interface DatasetFilter {
  /** Only answers given at or after this time. */
  since?: Date;
  /** Only tasks a person corrected (verdict `correct`). */
  onlyCorrected?: boolean;
  /** Ingest's limits, which kept images are decoded again within. */
  limits: Pick<IngestConfig, 'maxPixels'>;
}

/**
 * The answered document tasks that make training data, oldest answer first: confirmed and
 * corrected pages (unusable ones have no labels and are counted apart). Classification and
 * detection tasks export as COCO, YOLO or ImageFolder (`own-formats.ts`).
 */
export async function collectDataset(reviews: ReviewStore, blobs: BlobStore, filter: DatasetFilter): Promise<{ items: DatasetItem[]; unusable: number }> {
  const answered = await reviews.answered({ since: filter.since?.toISOString() });
  const items: DatasetItem[] = [];
  let unusable = 0;
  for (const task of answered) {
    const answer = task.answer;
    if (answer === null || outputTask(task.modelOutput) !== 'document') continue;
    if (answer.verdict === 'unusable') {
      unusable++;
      continue;
    }
    if (filter.onlyCorrected && answer.verdict !== 'correct') continue;
    const bytes = await blobs.get(task.blob);
    if (bytes === null) {
      throw new VisionopsError('STORE_UNAVAILABLE', `The image of task ${task.id} (blob ${task.blob}) is missing from the blob store: restore the data directory's blobs/ folder, then export again.`);
    }
    items.push({
      task,
      image: await renderJpeg(bytes, filter.limits, { rotation: task.modelOutput.rotation, quality: 90 }),
      name: task.predictionId,
      width: task.modelOutput.width,
      height: task.modelOutput.height,
      lines: labelledLines(task),
    });
  }
  return { items, unusable };
}
