import type { TextRegions } from '../core/edge/regions.js';
import { VisionopsError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import { topClass } from '../core/postprocess/classification.js';
import { bucketed, decodeLine, keptReading, type LineReading } from '../core/postprocess/recognition.js';
import { extractTextBoxes, sortReadingOrder, type DetectedBox } from '../core/postprocess/db.js';
import { textSkewDegrees, type Quad } from '../core/postprocess/geometry.js';
import { cropQuad, sideBySide, warpQuad } from '../core/preprocess/crop.js';
import { preprocessHash } from '../core/preprocess/hash.js';
import { rotateFrame, rotateFrameBy, rotateQuad, type QuarterTurn } from '../core/preprocess/rotate.js';
import { toTensor, toTensorBatch } from '../core/preprocess/tensor.js';
import { readRegisteredModel } from '../registry/local-models.js';
import { batchedModel, type BatchedModel } from '../runtime/batched-model.js';
import type { BatchListener } from '../runtime/batcher.js';
import { builtinManifests } from '../runtime/builtin.js';
import type { BatchingConfig, RuntimeConfig } from '../runtime/config.js';
import { REMOTE_ROLES, type RemoteRole } from '../runtime/remote/config.js';
import type { ModelManifest } from '../runtime/manifest.js';
import { summarizingCtc } from '../runtime/ctc-summary.js';
import { createOnnxSession } from '../runtime/onnx-node.js';
import type { RemoteListener } from '../runtime/remote/pool.js';
import { remoteSession } from '../runtime/remote/session.js';
import type { ModelSession, TensorData } from '../runtime/session.js';
import { startWorkerPool } from '../runtime/worker-pool.js';
import { decideDocument } from '../core/decision/document.js';
import { StageClock, type ModelStageName } from './clock.js';
import type { PipelineConfig } from './config.js';
import { groupRows } from '../core/postprocess/rows.js';
import { splitPieces } from '../core/postprocess/split-pieces.js';
import type { Spelling } from '../core/text/spelling.js';
import { spellingOf } from './lexicon.js';
import type { Pipeline, ReadListener, StageContext } from './contract.js';
import { addTurns, exifClaim, isSideways, isUpsideDown, lineLength, orientationSource } from './orientation.js';
import type { DocumentResult, ModelLineage, TextLine, TextSegment, Timings } from '../core/records/prediction.js';

/** Bumped whenever the steps between the models change what a page reads as. */
export const DOCUMENT_PIPELINE_VERSION = '1.8.0';

/** The document pipeline: the runner's contract, and `read` for scripts and tests that call it alone. */
export interface DocumentPipeline extends Pipeline<DocumentResult> {
  readonly task: 'document';
  /**
   * Reads an RGB frame (EXIF orientation already applied by ingest; `exifOrientation` says which
   * tag it had, 1 or 0 for none) into lines in reading order, with the time each stage took.
   */
  read(frame: Frame, context: { exifOrientation: number }, listener?: ReadListener): Promise<{ result: DocumentResult; timings: Timings }>;
}

export interface DocumentPipelineOptions {
  /** The name it is configured and chosen under; `document` by default. */
  name?: string;
  /** Told of every batch each model runs: its size and each request's queue delay. */
  onBatch?: BatchListener;
  /** Where registered models live (data.dir/models): the cascade's fast recogniser comes from here. */
  modelsDir?: string;
  /** Told of every call to and health check of the remote servers of `runtime.remote`. */
  onRemote?: RemoteListener;
  /** Registered versions to run in place of the built-in models, by model id (the registry's slots). */
  versions?: ReadonlyMap<string, ModelManifest>;
}

/** Lines a read's recognition cascade handled, and how many exited early on the fast model. */
interface CascadeCount {
  lines: number;
  earlyExits: number;
}

type Reading = LineReading;

/**
 * A page's lines as the reader holds them: their boxes in the page's coordinates once turned by
 * `rotation`, and their crops, in the same order; `frame` is that page when the reader has it
 * (not for regions a device cut).
 */
interface Lines {
  rotation: QuarterTurn;
  boxes: Quad[];
  crops: Frame[];
  frame?: Frame;
}

/** The lines sorted into reading order, each crop kept with its box. */
function inReadingOrder(lines: Lines): Lines {
  const order = readingOrder(lines.boxes);
  return { rotation: lines.rotation, boxes: order.map((i) => lines.boxes[i]), crops: order.map((i) => lines.crops[i]) };
}

/** The boxes' indices in reading order. */
function readingOrder(boxes: Quad[]): number[] {
  const entries = boxes.map((box) => ({ box, score: 1 }));
  return sortReadingOrder(entries).map((entry) => entries.indexOf(entry));
}

/** The page as the pipeline currently holds it: the frame, turned so far by `rotation`, and its lines' boxes. */
interface Page {
  frame: Frame;
  rotation: QuarterTurn;
  boxes: Quad[];
}

function firstOutput(session: { manifest: ModelManifest }, outputs: Record<string, TensorData>): TensorData {
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

function inputName(session: { manifest: ModelManifest }): string {
  return session.manifest.inputs[0].name;
}

class DocumentReader implements DocumentPipeline {
  readonly task = 'document' as const;
  readonly version = DOCUMENT_PIPELINE_VERSION;
  readonly stages: readonly ModelStageName[];
  readonly decision: DocumentPipeline['decision'];

  constructor(
    readonly name: string,
    readonly models: ModelLineage[],
    readonly sessions: readonly ModelSession[],
    private readonly config: PipelineConfig,
    private readonly detection: BatchedModel,
    private readonly orientation: BatchedModel,
    private readonly recognition: BatchedModel,
    private readonly fastRecognition: BatchedModel | null,
    private readonly spelling: Spelling | undefined,
    private readonly release: () => Promise<void>,
  ) {
    this.stages = ['orientation', 'detection', 'crop', 'classification', ...(fastRecognition === null ? [] : (['recognitionFast'] as const)), 'recognition'];
    this.decision = { rule: (quality, result, settings) => decideDocument(quality, result, settings.decision), judged: (settings) => settings.decision };
  }

  async read(frame: Frame, context: { exifOrientation: number }, listener: ReadListener = {}): Promise<{ result: DocumentResult; timings: Timings }> {
    const clock = new StageClock();
    clock.expect(this.stages);
    const result = await this.run(frame, { exifOrientation: context.exifOrientation, clock, listener });
    return { result, timings: clock.timings() };
  }

  replay(result: DocumentResult, listener: ReadListener): void {
    listener.boxes?.(
      result.lines.map((line) => line.box),
      result.orientation.rotation,
    );
    result.lines.forEach((line, i) => listener.line?.(i, line));
  }

  async run(frame: Frame, { exifOrientation, clock, listener }: StageContext): Promise<DocumentResult> {
    const cascade: CascadeCount = { lines: 0, earlyExits: 0 };
    let page: Page = { frame, rotation: 0, boxes: await clock.time('detection', () => this.detectWithSmallText(frame)) };
    let turnedByBoxes = false;

    const orientation = this.config.orientation;
    if (orientation.enabled && isSideways(page.boxes, orientation.sidewaysShare)) {
      // The boxes say sideways, not which side: turn a quarter clockwise and let the classifier
      // turn the page over when that was the wrong way.
      const turned = await clock.time('orientation', () => rotateFrame(page.frame, 90));
      page = { frame: turned, rotation: 90, boxes: await clock.time('detection', () => this.detectWithSmallText(turned)) };
      turnedByBoxes = true;
    }

    const straight = await this.straightened(page, clock);
    const found: Lines = straight ?? { rotation: page.rotation, boxes: page.boxes, crops: await clock.time('crop', () => page.boxes.map((box) => cropQuad(page.frame, box))), frame: page.frame };
    listener.boxes?.(found.boxes, found.rotation);
    const turnedOver = async (): Promise<Lines> => {
      if (straight !== null) return clock.time('orientation', () => turnLinesOver(straight, page.frame.width, page.frame.height));
      const over = await clock.time('orientation', () => turnOver(page));
      return { rotation: over.rotation, boxes: over.boxes, crops: await clock.time('crop', () => over.boxes.map((box) => cropQuad(over.frame, box))), frame: over.frame };
    };
    const read = await this.readLines(found, turnedOver, clock, listener, cascade);
    return this.resultOf(read, await this.rejoined(read, clock, cascade), orientationSource(exifOrientation, turnedByBoxes, read.turnedByClassifier), exifOrientation, cascade);
  }

  /**
   * The regions a device found and cut from its frame, read as a page's lines are once found: in
   * reading order, the page turned over when the 0/180 vote says so (each crop turned, each box
   * carried to the turned frame), each line recognised and the rows grouped.
   */
  async readRegions(regions: TextRegions, { exifOrientation, clock, listener }: StageContext): Promise<DocumentResult> {
    const cascade: CascadeCount = { lines: 0, earlyExits: 0 };
    const order = readingOrder(regions.quads);
    const found: Lines = { rotation: 0, boxes: order.map((i) => regions.quads[i]), crops: order.map((i) => regions.crops[i]) };
    listener.boxes?.(found.boxes, found.rotation);
    if (regions.readings !== undefined) {
      // The device read its crops (policy `device`, docs/edge.md): its reading is the result, kept
      // and grouped into rows as a reading made here is; nothing is classified or recognised again.
      const deviceRead = regions.readings;
      const readings = order.map((i) => deviceRead[i]);
      readings.forEach((reading, i) => this.tell(listener, i, reading, found.boxes[i]));
      return this.resultOf({ lines: found, readings }, this.segmentsOf({ lines: found, readings }), orientationSource(exifOrientation, false, false), exifOrientation, cascade);
    }
    const turnedOver = (): Promise<Lines> => clock.time('orientation', () => turnLinesOver(found, regions.frame.width, regions.frame.height));
    const read = await this.readLines(found, turnedOver, clock, listener, cascade);
    return this.resultOf(read, this.segmentsOf(read), orientationSource(exifOrientation, false, read.turnedByClassifier), exifOrientation, cascade);
  }

  /**
   * Recognises a page's lines. When the 0/180 vote calls the page upside down, the lines turned
   * over are read too and the reading with the higher confidence wins: the classifier misfires on
   * some small print, and text read the right way up is read with far more confidence.
   */
  private async readLines(found: Lines, turnedOver: () => Promise<Lines>, clock: StageClock, listener: ReadListener, cascade: CascadeCount): Promise<{ lines: Lines; readings: Reading[]; turnedByClassifier: boolean }> {
    const orientation = this.config.orientation;
    let lines = found;
    let readings: Reading[] | null = null;
    let turnedByClassifier = false;
    if (orientation.enabled && lines.crops.length > 0) {
      const classes = await clock.time('classification', () => this.classify(found.crops));
      const votes = classes.map((c, i) => ({ ...c, length: lineLength(found.boxes[i]) }));
      if (isUpsideDown(votes, orientation.lineThreshold, orientation.upsideDownShare)) {
        const over = await turnedOver();
        const asIs = await this.recognise(found.crops, clock, cascade);
        const turned = await this.recognise(over.crops, clock, cascade);
        if (readingConfidence(turned, over.boxes) > readingConfidence(asIs, found.boxes)) {
          lines = over;
          readings = turned;
          turnedByClassifier = true;
          listener.boxes?.(lines.boxes, lines.rotation);
        } else {
          readings = asIs;
        }
        const chosen = lines;
        readings.forEach((reading, i) => this.tell(listener, i, reading, chosen.boxes[i]));
      }
    }
    const upright = lines;
    readings ??= upright.crops.length === 0 ? [] : await this.recognise(upright.crops, clock, cascade, (i, reading) => this.tell(listener, i, reading, upright.boxes[i]));
    return { lines, readings, turnedByClassifier };
  }

  /** The readings kept, each with its line's box. */
  private segmentsOf({ lines, readings }: { lines: Lines; readings: Reading[] }): TextSegment[] {
    const segments: TextSegment[] = [];
    readings.forEach((reading, i) => {
      if (this.kept(reading)) segments.push({ text: reading.text, confidence: reading.confidence, box: lines.boxes[i] });
    });
    return segments;
  }

  /**
   * The readings kept, with the pieces the detector split out of one stretch of a printed row
   * (src/core/postprocess/split-pieces.ts) read again as one crop of the page; that reading
   * takes their place when it is kept and at least as confident as the pieces were, their
   * confidences weighted by their length: a speck or a line showing through from the back of the
   * paper, read as a short unsure piece, does not lower the bar for the whole.
   */
  private async rejoined(read: { lines: Lines; readings: Reading[] }, clock: StageClock, cascade: CascadeCount): Promise<TextSegment[]> {
    const segments = this.segmentsOf(read);
    const frame = read.lines.frame;
    if (frame === undefined) return segments;
    const runs = groupRows(segments).flatMap((row) => splitPieces(row));
    if (runs.length === 0) return segments;
    const crops = await clock.time('crop', () => runs.map((run) => sideBySide(run.readBoxes.map((box) => warpQuad(frame, box)))));
    const readings = await this.recognise(crops, clock, cascade);
    const replaced = new Set<TextSegment>();
    const joined: TextSegment[] = [];
    runs.forEach((run, i) => {
      const reading = readings[i];
      if (!this.kept(reading) || reading.confidence < readingConfidence(run.segments, run.segments.map((s) => s.box))) return;
      run.segments.forEach((segment) => replaced.add(segment));
      joined.push({ text: reading.text, confidence: reading.confidence, box: run.box });
    });
    return [...segments.filter((segment) => !replaced.has(segment)), ...joined];
  }

  private resultOf({ lines, readings }: { lines: Lines; readings: Reading[] }, segments: TextSegment[], source: DocumentResult['orientation']['source'], exifOrientation: number, cascade: CascadeCount): DocumentResult {
    const printed = printedLines(segments);
    return {
      text: printed.map((line) => line.text).join('\n'),
      lines: printed,
      unreadLines: readings.filter((reading) => !this.kept(reading)).length,
      orientation: { rotation: lines.rotation, source, exif: exifClaim(exifOrientation, lines.rotation) },
      ...(this.fastRecognition === null ? {} : { cascade }),
    };
  }

  async close(): Promise<void> {
    await this.release();
  }

  /** Lines read with too little confidence, or as nothing but spaces, are noise. */
  private kept(reading: Reading): boolean {
    return keptReading(reading, this.config.recognition.dropScore);
  }

  private tell(listener: ReadListener, index: number, reading: Reading, box: Quad): void {
    if (listener.line !== undefined && this.kept(reading)) listener.line(index, { text: reading.text, confidence: reading.confidence, box });
  }

  /**
   * A page whose text runs off level by `orientation.deskewFromDegrees` or more (a little tilted,
   * or steeply, as a page lying at 80 degrees whose lines are not tall enough to call it sideways), turned level and
   * its lines found again, each crop cut from the level frame and its box carried back to the
   * page's; null for a level page.
   */
  private async straightened(page: Page, clock: StageClock): Promise<Lines | null> {
    const { enabled, deskewFromDegrees } = this.config.orientation;
    if (!enabled || deskewFromDegrees === null || page.boxes.length === 0) return null;
    const skew = textSkewDegrees(page.boxes);
    if (Math.abs(skew) < deskewFromDegrees) return null;
    const level = await clock.time('orientation', () => rotateFrameBy(page.frame, -skew));
    const boxes = await clock.time('detection', () => this.detectWithSmallText(level.frame));
    const crops = await clock.time('crop', () => boxes.map((box) => cropQuad(level.frame, box)));
    return { rotation: page.rotation, boxes: boxes.map((box) => box.map(level.toSource) as Quad), crops, frame: page.frame };
  }

  /**
   * Text line boxes, detected again at `detection.smallText.sideLen` when the page is larger than
   * the detector's limit and the text found is small at the detector's scale (see the config).
   */
  private async detectWithSmallText(frame: Frame): Promise<Quad[]> {
    const boxes = await this.detect(frame);
    const { limitSideLen, smallText } = this.config.detection;
    const longSide = Math.max(frame.width, frame.height);
    if (smallText.sideLen === null || smallText.sideLen <= limitSideLen || longSide <= limitSideLen || boxes.length === 0) return boxes;
    const heightAtDetector = medianHeight(boxes) * (limitSideLen / longSide);
    return heightAtDetector < smallText.belowHeight ? this.detect(frame, smallText.sideLen) : boxes;
  }

  /** Text line boxes in the frame's coordinates, in reading order; `sideLen` overrides the detector's long-side limit. */
  private async detect(frame: Frame, sideLen?: number): Promise<Quad[]> {
    const manifest = this.detection.manifest;
    if (manifest.postprocess.kind !== 'db') throw new VisionopsError('INTERNAL', 'The detection model must have DB post-processing.');
    const spec = sideLen === undefined || manifest.preprocess.resize.mode !== 'limit-long-side' ? manifest.preprocess : { ...manifest.preprocess, resize: { ...manifest.preprocess.resize, target: sideLen } };
    const input = toTensor(frame, spec);
    const map = firstOutput(this.detection, await this.detection.infer({ [inputName(this.detection)]: { data: input.data, dims: input.dims } }));
    const { threshold, boxThreshold, unclipRatio, maxCandidates, scoreMode } = manifest.postprocess;
    const boxes = extractTextBoxes(
      { data: map.data, width: map.dims[3], height: map.dims[2] },
      { threshold, boxThreshold, unclipRatio, maxCandidates, scoreMode },
      frame.width,
      frame.height,
    );
    return sortReadingOrder(boxes).map((b: DetectedBox) => b.box);
  }

  /** The 0/180 classifier on every crop, in the crops' order; the crops join the model's batches one by one. */
  private classify(crops: Frame[]): Promise<{ label: string; confidence: number }[]> {
    const labels = this.orientation.manifest.labels ?? ['0', '180'];
    return Promise.all(
      crops.map(async (crop) => {
        const { data, dims } = toTensor(crop, this.orientation.manifest.preprocess);
        const scores = firstOutput(this.orientation, await this.orientation.infer({ [inputName(this.orientation)]: { data, dims } }));
        return topClass(scores.data.subarray(0, scores.dims[1]), labels);
      }),
    );
  }

  /**
   * Text and confidence of every crop, in the crops' order; `onRead` hears each as it is read.
   * Each crop is padded on the right to its width bucket, so crops of similar width (from this
   * page or any other being read) share a batch and a crop reads the same in any batch. With a
   * cascade, every crop is read first by the fast model (stage `recognitionFast`) and only those
   * it is unsure of again by the accurate one (stage `recognition`).
   */
  private async recognise(crops: Frame[], clock: StageClock, cascade: CascadeCount, onRead?: (index: number, reading: Reading) => void): Promise<Reading[]> {
    const spec = this.recognition.manifest.preprocess;
    const tensors = crops.map((crop) => toTensorBatch([crop], bucketed(crop, spec, this.config.recognition.bucketWidth)));
    const readings: (Reading | undefined)[] = new Array(crops.length);
    const fastModel = this.fastRecognition;
    const { spaceBoost } = this.config.recognition;
    if (fastModel !== null) {
      const { acceptAbove } = this.config.recognition.cascade;
      await clock.time('recognitionFast', () =>
        Promise.all(
          tensors.map(async ({ data, dims }, i) => {
            cascade.lines++;
            const fast = await readLine(fastModel, data, dims, spaceBoost, this.spelling);
            if (fast.confidence < acceptAbove) return;
            cascade.earlyExits++;
            readings[i] = fast;
            onRead?.(i, fast);
          }),
        ),
      );
    }
    await clock.time('recognition', () =>
      Promise.all(
        tensors.map(async ({ data, dims }, i) => {
          if (readings[i] !== undefined) return;
          const reading = await readLine(this.recognition, data, dims, spaceBoost, this.spelling);
          readings[i] = reading;
          onRead?.(i, reading);
        }),
      ),
    );
    return readings as Reading[];
  }
}

/**
 * The segments read, grouped into the printed rows they sit on (src/core/postprocess/rows.ts), so
 * a label and its amount come out as one line; each row keeps its segments.
 */
function printedLines(segments: TextSegment[]): TextLine[] {
  return groupRows(segments).map((row) => ({ text: row.text, confidence: row.confidence, box: row.box, segments: row.segments }));
}

/**
 * One line's tensor through a CTC recogniser (whose session answers step summaries): its text,
 * each token read in its character class's context (src/core/text/tokens.ts), and confidence.
 */
async function readLine(model: BatchedModel, data: Float32Array, dims: number[], spaceBoost: number | null, spelling: Spelling | undefined): Promise<Reading> {
  const alphabet = model.manifest.labels;
  if (alphabet === undefined) throw new VisionopsError('INTERNAL', `The recognition model ${model.manifest.id} needs its CTC alphabet as labels.`);
  const summary = firstOutput(model, await model.infer({ [inputName(model)]: { data, dims } }));
  const { postprocess } = model.manifest;
  const options = postprocess.kind === 'ctc' ? postprocess : {};
  return decodeLine(summary.data, summary.dims[1], alphabet, spaceBoost === null ? options : { ...options, spaceBoost }, spelling);
}

/** The median of the boxes' heights (their shorter side), in the frame's pixels. */
function medianHeight(boxes: Quad[]): number {
  const heights = boxes.map((box) => {
    const [topLeft, topRight, , bottomLeft] = box;
    return Math.min(Math.hypot(topRight[0] - topLeft[0], topRight[1] - topLeft[1]), Math.hypot(bottomLeft[0] - topLeft[0], bottomLeft[1] - topLeft[1]));
  });
  heights.sort((a, b) => a - b);
  return heights[heights.length >> 1];
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
/** Lines of a width x height frame turned over: each crop turned, each box carried to the turned frame, in reading order again. */
function turnLinesOver(lines: Lines, width: number, height: number): Lines {
  return inReadingOrder({
    rotation: addTurns(lines.rotation, 180),
    boxes: lines.boxes.map((box) => rotateQuad(box, 180, width, height)),
    crops: lines.crops.map((crop) => rotateFrame(crop, 180)),
  });
}

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
      scoreMode: detection.scoreMode,
    },
  };
}

async function lineageOf(role: string, stage: ModelStageName, manifest: ModelManifest): Promise<ModelLineage> {
  return { role, stage, id: manifest.id, version: manifest.version, sha256: manifest.sha256, preprocessHash: await preprocessHash(manifest.preprocess) };
}

interface OpenedSessions {
  /** In the order of the manifests; CTC models answer step summaries (`summarizingCtc`). */
  sessions: ModelSession[];
  /** The same models answering as they compute. */
  raw: ModelSession[];
  release: () => Promise<void>;
}

/** Sessions of the models on this machine: in inference worker threads, or on this thread when `runtime.workers` is 0. */
export async function openLocalSessions(manifests: ModelManifest[], runtime: RuntimeConfig): Promise<OpenedSessions> {
  if (manifests.length === 0) return { sessions: [], raw: [], release: async () => {} };
  if (runtime.workers > 0) {
    const pool = await startWorkerPool(manifests, runtime, runtime.workers);
    return { sessions: pool.sessions, raw: pool.rawSessions, release: () => pool.close() };
  }
  const loaded = await Promise.allSettled(manifests.map((manifest) => createOnnxSession(manifest, runtime)));
  const failure = loaded.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(loaded.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.close() : undefined)));
    throw failure.reason;
  }
  const raw = loaded.map((outcome) => (outcome as PromiseFulfilledResult<ModelSession>).value);
  return { sessions: raw.map(summarizingCtc), raw, release: async () => void (await Promise.all(raw.map((session) => session.close()))) };
}

/**
 * Sessions of the models by role: those `runtime.remote` names on its OIP v2 servers (their CTC
 * outputs summarised here, as a worker would), the others on this machine.
 */
async function openSessions(roles: { role: string; manifest: ModelManifest }[], runtime: RuntimeConfig, onRemote?: RemoteListener): Promise<OpenedSessions> {
  const remoteOf = (role: string) => (REMOTE_ROLES.includes(role as RemoteRole) ? runtime.remote[role as RemoteRole] : undefined);
  const local = await openLocalSessions(roles.filter(({ role }) => remoteOf(role) === undefined).map(({ manifest }) => manifest), runtime);
  const remote = new Map(roles.flatMap(({ role, manifest }) => {
    const config = remoteOf(role);
    return config === undefined ? [] : [[role, remoteSession(manifest, config, onRemote)] as const];
  }));
  let next = 0;
  const placed = roles.map(({ role }) => {
    const session = remote.get(role);
    if (session !== undefined) return { session: summarizingCtc(session), raw: session as ModelSession };
    const index = next++;
    return { session: local.sessions[index], raw: local.raw[index] };
  });
  return {
    sessions: placed.map((p) => p.session),
    raw: placed.map((p) => p.raw),
    release: async () => {
      await Promise.all([...remote.values()].map((session) => session.close()));
      await local.release();
    },
  };
}

/**
 * Loads the built-in PaddleOCR PP-OCRv4 document pipeline: text detection, the 0/180 line
 * classifier that finds upside-down pages, and text recognition, each behind its dynamic batcher.
 * Throws MODEL_NOT_FOUND or MODEL_LOAD_FAILED when a model cannot be loaded; nothing stays open then.
 */
export async function loadDocumentPipeline(config: PipelineConfig, runtime: RuntimeConfig, options: DocumentPipelineOptions = {}): Promise<DocumentPipeline> {
  const loaded = await builtinManifests();
  const chosen = (manifest: ModelManifest) => options.versions?.get(manifest.id) ?? manifest;
  const builtin = { detection: chosen(loaded.detection), orientation: chosen(loaded.orientation), recognition: chosen(loaded.recognition) };
  const manifests = [configuredDetection(builtin.detection, config.detection), builtin.orientation, builtin.recognition];
  const fastModel = config.recognition.cascade.fastModel;
  if (fastModel !== null) {
    if (options.modelsDir === undefined) throw new VisionopsError('INTERNAL', 'A recognition cascade needs the models folder: pass modelsDir.');
    manifests.push((await readRegisteredModel(options.modelsDir, fastModel)).manifest);
  }
  const roles = ['detection', 'orientation', 'recognition', 'recognition-fast'].slice(0, manifests.length).map((role, i) => ({ role, manifest: manifests[i] }));
  const spelling = await spellingOf(config.recognition.spelling);
  const { sessions, raw, release } = await openSessions(roles, runtime, options.onRemote);
  const [detection, orientation, recognition, fast] = sessions;
  // Local runs at once: one per worker; remote ones: as many as the endpoints take together.
  const inFlight = (role: RemoteRole) => {
    const remote = runtime.remote[role];
    return remote === undefined ? Math.max(1, runtime.workers) : remote.endpoints.length * remote.concurrency;
  };
  const batched = (session: ModelSession, batching: BatchingConfig, role: RemoteRole) => batchedModel(session, { ...batching, maxInFlight: inFlight(role), onBatch: options.onBatch });
  const models = await Promise.all([
    lineageOf('detection', 'detection', detection.manifest),
    lineageOf('orientation', 'classification', orientation.manifest),
    lineageOf('recognition', 'recognition', recognition.manifest),
    ...(fast === undefined ? [] : [lineageOf('recognition-fast', 'recognitionFast', fast.manifest)]),
  ]);
  return new DocumentReader(
    options.name ?? 'document',
    models,
    raw,
    config,
    batched(detection, runtime.batching.detection, 'detection'),
    batched(orientation, runtime.batching.orientation, 'orientation'),
    batched(recognition, runtime.batching.recognition, 'recognition'),
    fast === undefined ? null : batched(fast, runtime.batching.recognition, 'recognition'),
    spelling,
    release,
  );
}
