import { readFile } from 'node:fs/promises';
import type { Frame } from '../core/frame.js';
import type { Quad } from '../core/postprocess/geometry.js';
import { cropQuad } from '../core/preprocess/crop.js';
import { toTensor, toTensorBatch } from '../core/preprocess/tensor.js';
import type { IngestConfig } from '../image/config.js';
import { ingestImage } from '../image/ingest.js';
import type { PipelineConfig } from '../pipeline/config.js';
import { bucketed } from '../core/postprocess/recognition.js';
import { loadDocumentPipeline } from '../pipeline/document.js';
import type { BuiltinManifests } from '../runtime/builtin.js';
import type { RuntimeConfig } from '../runtime/config.js';
import type { TensorData } from '../runtime/session.js';

export type ModelRole = keyof BuiltinManifests;

/** One input as the model sees it, with the page it came from (so held-back pages stay held back). */
export interface CalibrationInput {
  page: number;
  tensor: TensorData;
}

/** Upright text line crops of a page, as the FP32 document pipeline finds them; none from pages it had to turn. */
async function lineCrops(pipeline: Awaited<ReturnType<typeof loadDocumentPipeline>>, frame: Frame): Promise<Frame[]> {
  let found: Quad[] = [];
  let turned = false;
  await pipeline.read(frame, { exifOrientation: 1 }, {
    boxes(boxes, rotation) {
      found = boxes;
      turned = rotation !== 0;
    },
  });
  return turned ? [] : found.map((box) => cropQuad(frame, box));
}

/**
 * The model's own inputs from a folder's images, with the model's own preprocessing: whole pages
 * for detection; for recognition and orientation, the text lines the FP32 pipeline detects on
 * them, cropped and preprocessed exactly as the pipeline does.
 */
export async function calibrationInputs(
  role: ModelRole,
  files: string[],
  manifests: BuiltinManifests,
  settings: { ingest: IngestConfig; pipeline: PipelineConfig; runtime: RuntimeConfig },
): Promise<CalibrationInput[]> {
  const inputs: CalibrationInput[] = [];
  const pipeline = role === 'detection' ? null : await loadDocumentPipeline(settings.pipeline, settings.runtime);
  try {
    for (const [page, file] of files.entries()) {
      const { frame } = await ingestImage(await readFile(file), settings.ingest);
      if (pipeline === null) {
        const { data, dims } = toTensor(frame, manifests.detection.preprocess);
        inputs.push({ page, tensor: { data, dims } });
        continue;
      }
      for (const crop of await lineCrops(pipeline, frame)) {
        const spec = role === 'recognition' ? bucketed(crop, manifests.recognition.preprocess, settings.pipeline.recognition.bucketWidth) : manifests.orientation.preprocess;
        const { data, dims } = toTensorBatch([crop], spec);
        inputs.push({ page, tensor: { data, dims } });
      }
    }
  } finally {
    await pipeline?.close();
  }
  return inputs;
}
