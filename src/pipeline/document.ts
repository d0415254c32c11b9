import { VisionopsError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import { topClass } from '../core/postprocess/classification.js';
import { ctcGreedyDecodeBatch } from '../core/postprocess/ctc.js';
import { extractTextBoxes, sortReadingOrder, type DetectedBox } from '../core/postprocess/db.js';
import type { Quad } from '../core/postprocess/geometry.js';
import { cropQuad } from '../core/preprocess/crop.js';
import { preprocessHash } from '../core/preprocess/hash.js';
import { rotateFrame, rotateQuad, type QuarterTurn } from '../core/preprocess/rotate.js';
import { toTensor, toTensorBatch } from '../core/preprocess/tensor.js';
import { builtinManifests } from '../runtime/builtin.js';
import type { RuntimeConfig } from '../runtime/config.js';
import type { ModelManifest } from '../runtime/manifest.js';
import { createOnnxSession } from '../runtime/onnx-node.js';
import type { ModelSession, TensorData } from '../runtime/session.js';
import type { PipelineConfig } from './config.js';
import { addTurns, isSideways, isUpsideDown, lineLength, orientationSource } from './orientation.js';
import type { DocumentResult, ModelLineage, TextLine, Timings } from './types.js';

/** Bumped whenever the steps between the models change what a page reads as. */
export const DOCUMENT_PIPELINE_VERSION = '1.0.0';

export interface DocumentPipeline {
  readonly id: 'document';
  readonly version: string;
  readonly models: ModelLineage[];
  /**
   * Reads an RGB frame (EXIF orientation already applied by ingest; `exifOrientation` says which
   * tag it had, 1 or 0 for none) into lines in reading order, with the time each stage took.
   */
  read(frame: Frame, context: { exifOrientation: number }): Promise<{ result: DocumentResult; timings: Timings }>;
  close(): Promise<void>;
}

interface Reading {
  text: string;
  confidence: number;
}

/** The page as the pipeline currently holds it: the frame, turned so far by `rotation`, and its lines' boxes. */
interface Page {
  frame: Frame;
  rotation: QuarterTurn;
  boxes: Quad[];
}

function firstOutput(session: ModelSession, outputs: Record<string, TensorData>): TensorData {
  const name = session.manifest.outputs[0].name;
  const output = outputs[name];
  if (output === undefined) {
    throw new VisionopsError('INFERENCE_FAILED', `Model ${session.manifest.id} returned no output named ${name}: fix the manifest's outputs to match the graph.`, {
      model: session.manifest.id,
      outputs: Object.keys(outputs),
    });
  }
  return output;
}

function inputName(session: ModelSession): string {
  return session.manifest.inputs[0].name;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Accumulates the milliseconds spent in each stage of one read. */
class StageClock {
  readonly timings: Timings = { orientation: 0, detection: 0, crop: 0, classification: 0, recognition: 0 };

  async time<T>(stage: string, work: () => Promise<T> | T): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.timings[stage] = (this.timings[stage] ?? 0) + performance.now() - start;
    }
  }
}

class DocumentReader implements DocumentPipeline {
  readonly id = 'document' as const;
  readonly version = DOCUMENT_PIPELINE_VERSION;

  constructor(
    readonly models: ModelLineage[],
    private readonly config: PipelineConfig,
    private readonly detection: ModelSession,
    private readonly orientation: ModelSession,
    private readonly recognition: ModelSession,
  ) {}

  async read(frame: Frame, context: { exifOrientation: number }): Promise<{ result: DocumentResult; timings: Timings }> {
    const clock = new StageClock();
    let page: Page = { frame, rotation: 0, boxes: await clock.time('detection', () => this.detect(frame)) };
    let turnedByBoxes = false;
    let turnedByClassifier = false;

    const orientation = this.config.orientation;
    if (orientation.enabled && isSideways(page.boxes, orientation.sidewaysShare)) {
      // The boxes say sideways, not which side: turn a quarter clockwise and let the classifier
      // turn the page over when that was the wrong way.
      const turned = await clock.time('orientation', () => rotateFrame(page.frame, 90));
      page = { frame: turned, rotation: 90, boxes: await clock.time('detection', () => this.detect(turned)) };
      turnedByBoxes = true;
    }

    let crops = await clock.time('crop', () => page.boxes.map((box) => cropQuad(page.frame, box)));
    let readings: Reading[] | null = null;
    if (orientation.enabled && crops.length > 0) {
      const classes = await clock.time('classification', () => this.classify(crops));
      const votes = classes.map((c, i) => ({ ...c, length: lineLength(page.boxes[i]) }));
      if (isUpsideDown(votes, orientation.lineThreshold, orientation.upsideDownShare)) {
        // The classifier misfires on some small print; the recogniser settles it: text read the
        // right way up is read with far more confidence than the same text upside down.
        const over = await clock.time('orientation', () => turnOver(page));
        const overCrops = await clock.time('crop', () => over.boxes.map((box) => cropQuad(over.frame, box)));
        const asIs = await clock.time('recognition', () => this.recognise(crops));
        const turned = await clock.time('recognition', () => this.recognise(overCrops));
        if (readingConfidence(turned, over.boxes) > readingConfidence(asIs, page.boxes)) {
          page = over;
          crops = overCrops;
          readings = turned;
          turnedByClassifier = true;
        } else {
          readings = asIs;
        }
      }
    }

    readings ??= crops.length === 0 ? [] : await clock.time('recognition', () => this.recognise(crops));
    const lines: TextLine[] = [];
    readings.forEach((reading, i) => {
      if (reading.confidence >= this.config.recognition.dropScore && reading.text.trim() !== '') {
        lines.push({ text: reading.text, confidence: reading.confidence, box: page.boxes[i] });
      }
    });

    const result: DocumentResult = {
      text: lines.map((line) => line.text).join('\n'),
      lines,
      orientation: { rotation: page.rotation, source: orientationSource(context.exifOrientation, turnedByBoxes, turnedByClassifier) },
    };
    return { result, timings: clock.timings };
  }

  async close(): Promise<void> {
    await Promise.all([this.detection.close(), this.orientation.close(), this.recognition.close()]);
  }

  /** Text line boxes in the frame's coordinates, in reading order. */
  private async detect(frame: Frame): Promise<Quad[]> {
    const manifest = this.detection.manifest;
    if (manifest.postprocess.kind !== 'db') throw new VisionopsError('INTERNAL', 'The detection model must have DB post-processing.');
    const input = toTensor(frame, manifest.preprocess);
    const map = firstOutput(this.detection, await this.detection.run({ [inputName(this.detection)]: input }));
    const { threshold, boxThreshold, unclipRatio, maxCandidates } = manifest.postprocess;
    const boxes = extractTextBoxes(
      { data: map.data, width: map.dims[3], height: map.dims[2] },
      { threshold, boxThreshold, unclipRatio, maxCandidates },
      frame.width,
      frame.height,
    );
    return sortReadingOrder(boxes).map((b: DetectedBox) => b.box);
  }

  /** The 0/180 classifier on every crop, in the crops' order. */
  private async classify(crops: Frame[]): Promise<{ label: string; confidence: number }[]> {
    const labels = this.orientation.manifest.labels ?? ['0', '180'];
    const results: { label: string; confidence: number }[] = [];
    for (const batch of chunks(crops, this.config.orientation.batchSize)) {
      const input = toTensorBatch(batch, this.orientation.manifest.preprocess);
      const scores = firstOutput(this.orientation, await this.orientation.run({ [inputName(this.orientation)]: input }));
      const classes = scores.dims[1];
      for (let n = 0; n < batch.length; n++) results.push(topClass(scores.data.subarray(n * classes, (n + 1) * classes), labels));
    }
    return results;
  }

  /**
   * Text and confidence of every crop, in the crops' order. Crops are read in batches of similar
   * aspect ratio, as PaddleOCR does, so little of each batch is padding.
   */
  private async recognise(crops: Frame[]): Promise<Reading[]> {
    const alphabet = this.recognition.manifest.labels;
    if (alphabet === undefined) throw new VisionopsError('INTERNAL', 'The recognition model needs its CTC alphabet as labels.');
    const order = crops.map((_, i) => i).sort((a, b) => crops[a].width / crops[a].height - crops[b].width / crops[b].height);
    const results: Reading[] = new Array(crops.length);
    for (const batch of chunks(order, this.config.recognition.batchSize)) {
      const input = toTensorBatch(
        batch.map((i) => crops[i]),
        this.recognition.manifest.preprocess,
      );
      const probs = firstOutput(this.recognition, await this.recognition.run({ [inputName(this.recognition)]: input }));
      const [size, steps, classes] = probs.dims;
      ctcGreedyDecodeBatch(probs.data, size, steps, classes, alphabet).forEach((reading, k) => {
        results[batch[k]] = reading;
      });
    }
    return results;
  }
}

/** The mean confidence of a page's readings, each weighted by the length of its line. */
function readingConfidence(readings: Reading[], boxes: Quad[]): number {
  let weighted = 0;
  let total = 0;
  readings.forEach((reading, i) => {
    const length = lineLength(boxes[i]);
    weighted += reading.confidence * length;
    total += length;
  });
  return total === 0 ? 0 : weighted / total;
}

/** The page turned 180 degrees with its boxes carried along (cheaper than detecting again). */
function turnOver(page: Page): Page {
  const { width, height } = page.frame;
  const boxes = page.boxes.map((box) => rotateQuad(box, 180, width, height));
  return {
    frame: rotateFrame(page.frame, 180),
    rotation: addTurns(page.rotation, 180),
    boxes: sortReadingOrder(boxes.map((box) => ({ box, score: 1 }))).map((b) => b.box),
  };
}

/** The detection manifest with the pipeline's detection settings in place of the model's defaults. */
function configuredDetection(manifest: ModelManifest, detection: PipelineConfig['detection']): ModelManifest {
  if (manifest.preprocess.resize.mode !== 'limit-long-side') return manifest;
  return {
    ...manifest,
    preprocess: { ...manifest.preprocess, resize: { ...manifest.preprocess.resize, target: detection.limitSideLen } },
    postprocess: {
      kind: 'db',
      threshold: detection.threshold,
      boxThreshold: detection.boxThreshold,
      unclipRatio: detection.unclipRatio,
      maxCandidates: detection.maxCandidates,
    },
  };
}

async function lineageOf(role: string, manifest: ModelManifest): Promise<ModelLineage> {
  return { role, id: manifest.id, version: manifest.version, sha256: manifest.sha256, preprocessHash: await preprocessHash(manifest.preprocess) };
}

/**
 * Loads the built-in PaddleOCR PP-OCRv4 document pipeline: text detection, the 0/180 line
 * classifier that finds upside-down pages, and text recognition. Throws MODEL_NOT_FOUND or
 * MODEL_LOAD_FAILED when a model cannot be loaded; nothing stays open then.
 */
export async function loadDocumentPipeline(config: PipelineConfig, runtime: RuntimeConfig): Promise<DocumentPipeline> {
  const builtin = await builtinManifests();
  const manifests = [configuredDetection(builtin.detection, config.detection), builtin.orientation, builtin.recognition];
  const loaded = await Promise.allSettled(manifests.map((manifest) => createOnnxSession(manifest, runtime)));
  const failure = loaded.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(loaded.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.close() : undefined)));
    throw failure.reason;
  }
  const [detection, orientation, recognition] = loaded.map((outcome) => (outcome as PromiseFulfilledResult<ModelSession>).value);
  const models = await Promise.all([
    lineageOf('detection', detection.manifest),
    lineageOf('orientation', orientation.manifest),
    lineageOf('recognition', recognition.manifest),
  ]);
  return new DocumentReader(models, config, detection, orientation, recognition);
}
