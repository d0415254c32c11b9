import type { ReviewTask } from '../../core/records/review.js';
import { isClassificationResult, isDetectionResult, type PredictionRecord } from '../../core/records/prediction.js';
import { VisionopsError } from '../../core/errors.js';
import type { IngestConfig } from '../../image/config.js';
import { renderJpeg } from '../../image/render.js';
import type { BlobStore, PredictionStore, ReviewStore } from '../../store/store.js';
import { DatasetWriter, type DatasetManifest } from './writer.js';

/** Dataset formats of classification and detection pipelines (docs/own-models.md). */
export const OWN_EXPORT_FORMATS = ['coco', 'yolo', 'imagefolder'] as const;
export type OwnExportFormat = (typeof OWN_EXPORT_FORMATS)[number];

type Box = [number, number, number, number];

/** One image with its labels: a person's answer when there is one, else what the model said. */
interface OwnItem {
  record: PredictionRecord;
  name: string;
  image: Buffer;
  width: number;
  height: number;
  /** classification: the label; detection: the boxes. */
  label?: string;
  boxes?: { label: string; box: Box }[];
  reviewed: boolean;
}

export interface OwnExportOptions {
  out: string;
  format: OwnExportFormat;
  /** Only this pipeline's records; every classification or detection record otherwise. */
  pipeline?: string;
  /** The class names in the model's order (its manifest's labels), so class ids are the model's; labels met in records and not listed follow, sorted. */
  labels?: string[];
  since?: Date;
  /** Only images a person reviewed. */
  onlyReviewed?: boolean;
  limits: Pick<IngestConfig, 'maxPixels'>;
}

const PAGE = 500;

/** Every record newest first, page by page, as the store lists them. */
async function* allRecords(predictions: PredictionStore): AsyncGenerator<PredictionRecord> {
  let before: string | undefined;
  for (;;) {
    const page = await predictions.list({ limit: PAGE, before });
    yield* page;
    if (page.length < PAGE) return;
    before = page[page.length - 1].id;
  }
}

/**
 * The images kept with their records (those decided `review`: the store keeps no other image)
 * whose result is a classification (for imagefolder) or a detection (coco, yolo), oldest first,
 * each labelled by a person's answer when one was given (answers marked unusable are left out)
 * and by the model's result otherwise.
 */
async function collect(predictions: PredictionStore, reviews: ReviewStore, blobs: BlobStore, options: OwnExportOptions): Promise<{ items: OwnItem[]; unusable: number }> {
  const answers = new Map<string, ReviewTask>();
  for (const task of await reviews.answered({})) answers.set(task.predictionId, task);
  const wantsBoxes = options.format !== 'imagefolder';
  const items: OwnItem[] = [];
  let unusable = 0;
  for await (const record of allRecords(predictions)) {
    if (record.blob === null || record.result === null) continue;
    if (options.pipeline !== undefined && record.lineage.pipeline.id !== options.pipeline) continue;
    if (options.since !== undefined && new Date(record.createdAt) < options.since) continue;
    if (wantsBoxes ? !isDetectionResult(record.result) : !isClassificationResult(record.result)) continue;
    const answer = answers.get(record.id)?.answer ?? null;
    if (answer?.verdict === 'unusable') {
      unusable++;
      continue;
    }
    const reviewed = answer !== null && (answer.label !== undefined || answer.boxes !== undefined);
    if (options.onlyReviewed === true && !reviewed) continue;
    const bytes = await blobs.get(record.blob);
    if (bytes === null) {
      throw new VisionopsError('STORE_UNAVAILABLE', `The image of prediction ${record.id} (blob ${record.blob}) is missing from the blob store: restore the data directory's blobs/ folder, then export again.`);
    }
    const item: OwnItem = { record, name: record.id, image: await renderJpeg(bytes, options.limits, { quality: 90 }), width: record.image.width, height: record.image.height, reviewed };
    if (isDetectionResult(record.result)) {
      item.boxes = answer?.boxes ?? record.result.boxes.map(({ label, box }) => ({ label, box }));
    } else if (isClassificationResult(record.result)) {
      const label = answer?.label ?? record.result.labels[0]?.label;
      if (label === undefined) continue;
      item.label = label;
    }
    items.push(item);
  }
  return { items: items.reverse(), unusable };
}

/** The class list: the manifest's labels in the model's order, then any other label met, sorted. */
function classesOf(items: OwnItem[], labels: string[] = []): string[] {
  const seen = new Set(items.flatMap((item) => [...(item.label === undefined ? [] : [item.label]), ...(item.boxes ?? []).map((b) => b.label)]));
  return [...labels, ...[...seen].filter((label) => !labels.includes(label)).sort()];
}

const round = (value: number) => Math.round(value * 1e3) / 1e3;

/** COCO's detection JSON (instances): bbox is [x, y, width, height] in pixels; category ids from 1. */
async function writeCoco(items: OwnItem[], classes: string[], out: DatasetWriter): Promise<number> {
  const images = [];
  const annotations = [];
  for (const [n, item] of items.entries()) {
    const file = `images/${item.name}.jpg`;
    await out.write(file, item.image);
    images.push({ id: n + 1, file_name: file, width: item.width, height: item.height, prediction_id: item.record.id, reviewed: item.reviewed });
    for (const { label, box } of item.boxes ?? []) {
      const [x1, y1, x2, y2] = box;
      annotations.push({ id: annotations.length + 1, image_id: n + 1, category_id: classes.indexOf(label) + 1, bbox: [x1, y1, x2 - x1, y2 - y1].map(round), area: round((x2 - x1) * (y2 - y1)), iscrowd: 0 });
    }
  }
  const categories = classes.map((name, i) => ({ id: i + 1, name, supercategory: 'object' }));
  await out.write('annotations.json', `${JSON.stringify({ info: { description: 'visionops export' }, images, annotations, categories }, null, 2)}\n`);
  return annotations.length;
}

/** Ultralytics' YOLO layout: images/NAME.jpg, labels/NAME.txt ("class cx cy w h", 0..1 of the image) and data.yaml naming the classes. */
async function writeYolo(items: OwnItem[], classes: string[], out: DatasetWriter): Promise<number> {
  let boxes = 0;
  for (const item of items) {
    await out.write(`images/${item.name}.jpg`, item.image);
    const rows = (item.boxes ?? []).map(({ label, box: [x1, y1, x2, y2] }) => {
      const f = (value: number) => value.toFixed(6);
      return `${classes.indexOf(label)} ${f((x1 + x2) / 2 / item.width)} ${f((y1 + y2) / 2 / item.height)} ${f((x2 - x1) / item.width)} ${f((y2 - y1) / item.height)}`;
    });
    boxes += rows.length;
    await out.write(`labels/${item.name}.txt`, rows.map((row) => `${row}\n`).join(''));
  }
  const names = classes.map((name, i) => `  ${i}: ${JSON.stringify(name)}`).join('\n');
  await out.write('data.yaml', `# Written by visionops export; train and val both list every image: split them before training.\npath: .\ntrain: images\nval: images\nnames:\n${names}\n`);
  return boxes;
}

/** torchvision's ImageFolder: one folder per class holding its images. A label is a folder name, so path separators become "_". */
async function writeImageFolder(items: OwnItem[], out: DatasetWriter): Promise<number> {
  for (const item of items) await out.write(`${(item.label as string).replace(/[/\\]|^\.+$/g, '_')}/${item.name}.jpg`, item.image);
  return items.length;
}

/**
 * Classification and detection records as a dataset version: COCO or YOLO for detection,
 * ImageFolder for classification, then `manifest.json` with each file's hash and an id (as the
 * document exports). Labels are a person's answer where there is one, the model's otherwise.
 *
 * @example await exportOwnDataset(stores.predictions, stores.reviews, stores.blobs, { out: 'datasets/squares', format: 'yolo', labels: ['red', 'white'], limits })
 */
export async function exportOwnDataset(
  predictions: PredictionStore,
  reviews: ReviewStore,
  blobs: BlobStore,
  options: OwnExportOptions,
): Promise<{ manifest: DatasetManifest; unusableSkipped: number; labels: number; reviewed: number }> {
  const { items, unusable } = await collect(predictions, reviews, blobs, options);
  const out = await DatasetWriter.open(options.out);
  const classes = classesOf(items, options.labels);
  const labels = options.format === 'coco' ? await writeCoco(items, classes, out) : options.format === 'yolo' ? await writeYolo(items, classes, out) : await writeImageFolder(items, out);
  const reviewed = items.filter((item) => item.reviewed).length;
  const manifest = await out.finish({
    format: options.format,
    // A box or an image label counts as a line of a document export; corrected ones are those a person answered.
    counts: { images: items.length, lines: labels, correctedLines: reviewed },
    predictions: items.map((item) => item.record.id).sort(),
    modelVersions: [...new Set(items.map((item) => item.record.lineage.models.map((m) => `${m.id}@${m.version}`).join(' + ')))].sort(),
  });
  return { manifest, unusableSkipped: unusable, labels, reviewed };
}
