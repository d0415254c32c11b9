import { judgementHash } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { TextRegions } from '../core/edge/regions.js';
import { VisionopsError } from '../core/errors.js';
import { toGray, type Frame, type GrayFrame } from '../core/frame.js';
import { cropRegion } from '../core/preprocess/region.js';
import { runContentGate, withEnabledChecks } from '../core/quality/content-gate.js';
import { judgeSurvey, surveyImage } from '../core/quality/gate.js';
import { tilesRegion } from '../core/quality/text-scale.js';
import type { QualityKernels } from '../core/quality/kernels.js';
import type { QualityReport } from '../core/quality/types.js';
import { qualityKernels, type KernelChoice } from '../core/quality/wasm/kernels.js';
import type { Decision, DecisionReason, ModelLineage, PredictionRecord, TaskResult, Timings } from '../core/records/prediction.js';
import { ingestImage, regionLuma, type DecodeSize } from '../image/ingest.js';
import type { IngestedImage } from '../image/types.js';
import { newRecordId } from '../store/record-id.js';
import type { BlobStore, PredictionStore } from '../store/store.js';
import { StageClock } from './clock.js';
import type { PipelineConfig } from './config.js';
import { liftEdgeRoute } from './edge-lineage.js';
import type { Pipeline, PredictionListener, StageContext } from './contract.js';

/**
 * The path of one image, in order. Ingest decodes once with the limits; the region of interest
 * is cropped; the gate judges what the models will see; the pipeline's model stages read it (only
 * when the gate passes); its rule decides; the record stage keeps the image a person must review,
 * saves the record and tells the observers. `until` stops the path after a stage: `visionops
 * check` after the gate, reference profiles after the decision, so that they measure exactly what
 * production measures.
 */
export type Until = 'gate' | 'decide' | 'record';

/** What the path reads from the configuration: ingest's limits, the gate's thresholds and kernels, and the pipeline's settings (its region of interest, its decision thresholds). */
export interface PathSettings {
  ingest: Config['ingest'];
  quality: Config['quality'];
  pipeline: PipelineConfig;
  /** Where the gate's per-pixel passes run (`runtime.qualityKernels`); JavaScript when absent. */
  kernels?: KernelChoice;
}

/** Where the record stage keeps what it records, and who is told. */
export interface Recorder {
  store: PredictionStore;
  blobs: BlobStore;
  observers: PredictionObserver[];
}

/** What an observer learns of one prediction: the saved record, the bytes as sent, the decoded image and what the gate and models saw. */
export interface RecordedPrediction {
  record: PredictionRecord;
  bytes: Uint8Array;
  image: IngestedImage;
  /** The upright image cropped to the region of interest, and its luma. */
  frame: Frame;
  gray: GrayFrame;
}

export interface PredictionObserver {
  /** Awaited before `predict` returns; a throw fails the request, so an observer that may lose work must say so with a VisionopsError. */
  recorded(prediction: RecordedPrediction): void | Promise<void>;
}

/** The path as far as the gate. */
export interface Gated {
  image: IngestedImage;
  frame: Frame;
  gray: GrayFrame;
  quality: QualityReport;
}

/** The path as far as the decision. */
export interface Decided extends Gated {
  result: TaskResult | null;
  /** Only models that saw the image belong in its lineage: an image the gate stops has none. */
  models: ModelLineage[];
  decision: Decision;
  reasons: DecisionReason[];
}

/** A record before the record stage gives it an id, its time, its timings and its kept image. */
export type RecordDraft = Omit<PredictionRecord, 'id' | 'createdAt' | 'timings' | 'blob'>;

export type RunOutcome<U extends Until> = U extends 'gate' ? Gated & { timings: Timings } : U extends 'decide' ? Decided & { timings: Timings } : PredictionRecord;

export interface RunOptions<U extends Until> {
  until?: U;
  /** Who sent the image and how: kept in the record's `source`. */
  source?: Record<string, unknown>;
  listener?: PredictionListener;
  clock?: StageClock;
  /** The record stage saves the record under this key, or returns the one already saved under it. */
  idempotencyKey?: string;
  /** Stops the path before its next stage when it aborts (the client gone): CANCELLED, nothing recorded. */
  signal?: AbortSignal;
  /** The image is a page rebuilt from these regions (`ingestRegions`): the pipeline reads the regions, not the page. */
  regions?: TextRegions;
  /**
   * `reduced`: a path stopped at the gate may decode a large JPEG at a reduced size (`visionops
   * check`, the edge agent), where nothing needs the whole frame: no region of interest to crop,
   * and the document gate (the scene gate reads the frame itself). The gate's tiles then come from
   * a second decode, at full resolution and of their region only, made only when the overview found
   * content to read them in.
   */
  decode?: DecodeSize;
}

/**
 * Carries images along the path for one pipeline. Without a pipeline it runs to the gate only
 * (`visionops check`, `profile --gate-only`); without a recorder, to the decision only.
 *
 * @example
 * const runner = new StageRunner(pathSettings(config, settings), pipeline, { store, blobs, observers: [] });
 * const record = await runner.run(bytes, { source: { channel: 'cli' } });
 * const { quality } = await runner.run(bytes, { until: 'gate' });
 */
export class StageRunner {
  private readonly judgedBy: string | null;
  private kernels: Promise<QualityKernels> | null = null;

  constructor(
    readonly path: PathSettings,
    readonly pipeline: Pipeline | null,
    private readonly recorder: Recorder | null = null,
  ) {
    // A pipeline with its own gate settings is judged by them too; the document gate's hash is unchanged.
    const judged = pipeline === null ? null : pipeline.gate === undefined ? pipeline.decision.judged(path.pipeline) : { decision: pipeline.decision.judged(path.pipeline), gate: pipeline.gate };
    this.judgedBy = pipeline === null ? null : judgementHash(path.quality, judged);
  }

  /** Whether the record stage has observers, which are promised the decoded image (a repeated answer decodes only then). */
  get hasObservers(): boolean {
    return (this.recorder?.observers.length ?? 0) > 0;
  }

  run<U extends Until = 'record'>(bytes: Uint8Array, options: RunOptions<U> = {}): Promise<RunOutcome<U>> {
    const clock = options.clock ?? new StageClock(options.signal);
    return this.ingest(bytes, clock, options.source, this.decodeSize(options)).then((image) => this.resume(image, bytes, { ...options, clock }));
  }

  /** The ingest stage: the bytes decoded once, within the limits, upright, hashed. */
  async ingest(bytes: Uint8Array, clock: StageClock, source: Record<string, unknown> = {}, size: DecodeSize = 'full'): Promise<IngestedImage> {
    const kernels = await this.qualityKernels();
    const reduceTo = size === 'reduced' ? { longSide: this.path.quality.analysis.overviewLongSide } : null;
    return clock.time('decode', () => ingestImage(bytes, this.path.ingest, source, kernels.toGray, reduceTo));
  }

  private decodeSize(options: RunOptions<Until>): DecodeSize {
    const gateOnly = options.until === 'gate' && this.path.pipeline.roi === null && this.pipeline?.gate?.content !== 'scene';
    return gateOnly ? (options.decode ?? 'full') : 'full';
  }

  /** The gate's kernels, resolved on first use (WebAssembly compiles asynchronously). */
  private qualityKernels(): Promise<QualityKernels> {
    this.kernels ??= qualityKernels(this.path.kernels ?? 'javascript');
    return this.kernels;
  }

  /** The path on from an ingested image (the cache decorator ingests first, to look for a near copy). */
  async resume<U extends Until = 'record'>(image: IngestedImage, bytes: Uint8Array, options: RunOptions<U> & { clock: StageClock }): Promise<RunOutcome<U>> {
    const { clock, listener = {} } = options;
    const until: Until = options.until ?? 'record';
    const gated = await this.gate(image, bytes, clock, listener);
    if (until === 'gate') return { ...gated, timings: clock.timings() } as RunOutcome<U>;
    const decided = await this.decide(gated, clock, listener, options.regions);
    if (until === 'decide') return { ...decided, timings: clock.timings() } as RunOutcome<U>;
    return this.record(this.draft(decided), bytes, decided, clock, options.idempotencyKey) as Promise<RunOutcome<U>>;
  }

  /** The region of interest: what the gate and the models see, with its luma. */
  crop(image: IngestedImage, clock: StageClock): Promise<{ frame: Frame; gray: GrayFrame }> {
    const roi = this.path.pipeline.roi;
    if (roi === null) return Promise.resolve({ frame: image.frame, gray: image.luma });
    return clock.time('roi', () => {
      const frame = cropRegion(image.frame, roi);
      return { frame, gray: toGray(frame) };
    });
  }

  /**
   * The record stage: the image kept when a person must review it, the record saved, then each
   * observer told in order. `seen` is what ingest and the crop made, null for an answer repeated
   * without decoding (observers, which are promised the image, make the caller decode). With an
   * `idempotencyKey` already taken (another process recorded it first), the record kept under it is
   * returned and the observers, told of it then, are not told again.
   */
  async record(draft: RecordDraft, bytes: Uint8Array, seen: Omit<Gated, 'quality'> | null, clock: StageClock, idempotencyKey?: string): Promise<PredictionRecord> {
    const recorder = this.recorder;
    if (recorder === null) throw new VisionopsError('INTERNAL', 'This stage runner records nothing: give it a store, or stop it at the decision.');
    // The row insert that follows is not in its own timings: it takes tens of microseconds in SQLite.
    const blob = await clock.time('store', () => (draft.decision === 'review' ? recorder.blobs.put(bytes) : null));
    clock.checkpoint();
    const record: PredictionRecord = {
      id: newRecordId(clock.startedAt.getTime()),
      createdAt: clock.startedAt.toISOString(),
      ...draft,
      timings: clock.timings(),
      blob,
    };
    const kept = await recorder.store.save(record, { idempotencyKey });
    if (kept.id !== record.id) return kept;
    if (seen !== null) for (const observer of recorder.observers) await observer.recorded({ record, bytes, ...seen });
    return record;
  }

  private async gate(image: IngestedImage, bytes: Uint8Array, clock: StageClock, listener: PredictionListener): Promise<Gated> {
    const { frame, gray } = await this.crop(image, clock);
    const kernels = await this.qualityKernels();
    const quality = image.reduced
      ? await this.gateReduced(image, bytes, clock, kernels)
      : await clock.time('gate', () => runContentGate(frame, this.path.quality, this.pipeline?.gate, gray, kernels));
    listener.quality?.(quality);
    return { image, frame, gray, quality };
  }

  /** The document gate on a reduced decode: the overview from it, the tiles (when there is content) from a full-resolution decode of their region. */
  private async gateReduced(image: IngestedImage, bytes: Uint8Array, clock: StageClock, kernels: QualityKernels): Promise<QualityReport> {
    const { quality } = this.path;
    const survey = await clock.time('gate', () => surveyImage(image.width, image.height, image.luma, quality, kernels));
    const region = tilesRegion(survey.plan);
    const full = region === null ? null : { gray: await clock.time('decode', () => regionLuma(bytes, image, region, this.path.ingest, kernels.toGray)), x: region.x, y: region.y };
    return clock.time('gate', () => withEnabledChecks(judgeSurvey(survey, quality, kernels, full), this.pipeline?.gate));
  }

  private loaded(): { pipeline: Pipeline; judgedBy: string } {
    if (this.pipeline === null || this.judgedBy === null) throw new VisionopsError('INTERNAL', 'This stage runner has no pipeline: stop it at the gate, or load the pipeline.');
    return { pipeline: this.pipeline, judgedBy: this.judgedBy };
  }

  private async decide(gated: Gated, clock: StageClock, listener: PredictionListener, regions?: TextRegions): Promise<Decided> {
    const { pipeline } = this.loaded();
    let result: TaskResult | null = null;
    let models: ModelLineage[] = [];
    if (gated.quality.verdict !== 'fail') {
      clock.expect(pipeline.stages);
      const context = { exifOrientation: gated.image.exifOrientation, clock, listener };
      result = regions === undefined ? await pipeline.run(gated.frame, context) : await readRegionsWith(pipeline, regions, context);
      // Crops the device read were recorded, not run through the pipeline's models: the device's are in lineage.edge.models.
      models = regions?.readings === undefined ? pipeline.models : [];
    }
    const { decision, reasons } = await clock.time('decide', () => pipeline.decision.rule(gated.quality, result, this.path.pipeline));
    return { ...gated, result, models, decision, reasons };
  }

  private draft({ image, quality, decision, reasons, result, models }: Decided): RecordDraft {
    const { pipeline, judgedBy } = this.loaded();
    const edge = liftEdgeRoute(image.metadata.source);
    return {
      source: { ...edge.source, exif: image.metadata.exif },
      image: describeImage(image),
      quality,
      decision,
      reasons,
      result,
      lineage: {
        pipeline: { id: pipeline.name, version: pipeline.version },
        models,
        image: { sha256: image.sha256, phash: image.phash },
        configHash: judgedBy,
        ...edge.lineage,
      },
    };
  }
}

function readRegionsWith(pipeline: Pipeline, regions: TextRegions, context: StageContext): Promise<TaskResult> {
  if (pipeline.readRegions === undefined) throw regionsNotRead(pipeline.name);
  return pipeline.readRegions(regions, context);
}

/** INVALID_REQUEST for a regions upload to a pipeline that reads whole images only. */
export function regionsNotRead(pipeline: string): VisionopsError {
  return new VisionopsError('INVALID_REQUEST', `The pipeline "${pipeline}" reads whole images only: send the image to POST /v1/predict, or choose a document pipeline with ?pipeline=.`, { problem: 'REGIONS_NOT_READ' });
}

/** The settings of the stages before the models, for a pipeline configured with `settings`. */
export function pathSettings(config: Config, settings: PipelineConfig): PathSettings {
  return { ingest: config.ingest, quality: config.quality, pipeline: settings, kernels: config.runtime.qualityKernels };
}

export function describeImage(image: IngestedImage): PredictionRecord['image'] {
  return { sha256: image.sha256, phash: image.phash, format: image.format, width: image.width, height: image.height, bytes: image.bytes };
}
