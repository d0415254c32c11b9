import type { DecisionOutcome } from '../core/decision/document.js';
import type { TextRegions } from '../core/edge/regions.js';
import type { Frame } from '../core/frame.js';
import type { Quad } from '../core/postprocess/geometry.js';
import type { QuarterTurn } from '../core/preprocess/rotate.js';
import type { GateSettings } from '../core/quality/gate-settings.js';
import type { QualityReport } from '../core/quality/types.js';
import type { ModelLineage, Task, TaskResult, TextLine } from '../core/records/prediction.js';
import type { ModelSession } from '../runtime/session.js';
import type { ModelStageName, StageClock } from './clock.js';
import type { PipelineConfig } from './config.js';

/** Told of a document read's progress, for clients that draw while the rest computes (SSE). */
export interface ReadListener {
  /** The boxes of the text lines as found, in reading order, and the rotation they are in. */
  boxes?(boxes: Quad[], rotation: QuarterTurn): void;
  /** A line as soon as it is read (lines dropped as noise are not told); `index` is its box's. */
  line?(index: number, line: TextLine): void;
}

/** Told of one prediction's progress as it happens: the gate's report, then what the pipeline tells. */
export interface PredictionListener extends ReadListener {
  /** The gate's report, before any model runs. */
  quality?(report: QualityReport): void;
}

/** What a pipeline's model stages get besides the frame: one clock for the whole prediction and the listener. */
export interface StageContext {
  /** The EXIF orientation tag ingest applied (1 for none), so the result can say who turned the image. */
  exifOrientation: number;
  clock: StageClock;
  listener: PredictionListener;
}

/**
 * What the stage runner needs of a pipeline: it runs ingest, the region of interest and the gate
 * itself, then the pipeline's model stages (`run`), then its decision rule, then records the
 * result with the pipeline's lineage. A new kind of model (classification, detection) is a new
 * implementation of this interface and a loader in `pipelines.ts`; the runner, the service, the
 * cache and the monitor do not change.
 *
 * @example
 * const pipeline = await loadDocumentPipeline(settings, runtime, { name: 'document' });
 * const result = await pipeline.run(frame, { exifOrientation: 1, clock: new StageClock(), listener: {} });
 * const { decision, reasons } = pipeline.decision.rule(quality, result, settings);
 */
export interface Pipeline<Result extends TaskResult = TaskResult, Settings = PipelineConfig> {
  /** The name it is configured and chosen under (`POST /v1/predict?pipeline=NAME`); the lineage's pipeline id. */
  readonly name: string;
  readonly task: Task;
  /** Bumped whenever the steps between the models change what an image reads as. */
  readonly version: string;
  /** Every model it runs, with its weights' hash, its preprocessing spec's hash and the stage it runs in. */
  readonly models: ModelLineage[];
  /**
   * The gate its images pass: the content type (`document` text-scale checks, `scene` photographic
   * ones), the checks that count, scene thresholds and the model's input size (a manifest's `gate`
   * object and `input`). Absent: the document gate.
   */
  readonly gate?: GateSettings;
  /** Its models' sessions answering as the models compute (no summaries), to serve them over the Open Inference Protocol; absent: none served. */
  readonly sessions?: readonly ModelSession[];
  /** Its model stages, in the order they run; each shows in the record's timings. */
  readonly stages: readonly ModelStageName[];
  readonly decision: {
    /**
     * Routes a gated, read image to accept, review or reject with the reasons; `result` is null
     * when the gate failed. `settings` are the configured ones of the runner that asks.
     */
    rule(quality: QualityReport, result: Result | null, settings: Settings): DecisionOutcome;
    /** The settings the rule reads, hashed into each record's `lineage.configHash`. */
    judged(settings: Settings): unknown;
  };
  /** The model stages on a frame the gate passed. */
  run(frame: Frame, context: StageContext): Promise<Result>;
  /**
   * The model stages on the text regions a device found and cut from its frame (a regions upload,
   * whose rebuilt page the gate passed): no detection, the result's boxes in the frame's
   * coordinates. Absent: the pipeline reads whole images only.
   */
  readRegions?(regions: TextRegions, context: StageContext): Promise<Result>;
  /** Tells a listener a result repeated from the cache, in the order a computed one would have been told. */
  replay(result: Result, listener: PredictionListener): void;
  close(): Promise<void>;
}
