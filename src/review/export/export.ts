import type { BlobStore } from '../../store/store.js';
import type { ReviewStore } from '../../store/store.js';
import { collectDataset, type DatasetFilter } from './dataset.js';
import { writeJsonl, writeLabelStudio, writePaddleOcr, type ExportFormat } from './formats.js';
import { DatasetWriter, type DatasetManifest } from './writer.js';

export interface ExportOptions extends DatasetFilter {
  out: string;
  format: ExportFormat;
  /** Put before `images/...` in Label Studio's `data.ocr` (Label Studio's local-files route by default). */
  imagePrefix?: string;
}

/** Label Studio serves files under LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT at this path. */
export const LOCAL_FILES_PREFIX = '/data/local-files/?d=';

/**
 * The reviewed pages with their corrected labels, in one format, as a dataset version: the files,
 * then `manifest.json` with each file's SHA-256, the counts, the source predictions, the model
 * versions, and an id derived from all of that.
 *
 * @example
 * const { manifest } = await exportDataset(reviews, blobs, { out: 'datasets/2026-11', format: 'paddleocr', onlyCorrected: true });
 */
export async function exportDataset(reviews: ReviewStore, blobs: BlobStore, options: ExportOptions): Promise<{ manifest: DatasetManifest; unusableSkipped: number }> {
  const { items, unusable } = await collectDataset(reviews, blobs, options);
  const out = await DatasetWriter.open(options.out);
  if (options.format === 'jsonl') await writeJsonl(items, out);
  else if (options.format === 'paddleocr') await writePaddleOcr(items, out, options.limits);
  else await writeLabelStudio(items, out, options.imagePrefix ?? LOCAL_FILES_PREFIX);
  const lines = items.flatMap((item) => item.lines);
  const manifest = await out.finish({
    format: options.format,
    counts: { images: items.length, lines: lines.length, correctedLines: lines.filter((line) => line.corrected).length },
    predictions: items.map((item) => item.task.predictionId).sort(),
    modelVersions: [...new Set(items.map((item) => item.task.modelVersion))].sort(),
  });
  // Pages marked unusable have no labels; how many were left out is told, not part of the dataset's identity.
  return { manifest, unusableSkipped: unusable };
}
