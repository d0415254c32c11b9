import { decideClassification, decideDetection } from '../../core/decision/model.js';
import { VisionopsError } from '../../core/errors.js';
import type { Frame } from '../../core/frame.js';
import { rankClasses } from '../../core/postprocess/classification.js';
import { decodeBoxesScoresClasses, decodeYoloV5, decodeYoloV8, detectionsToFrame, type DetectionOptions } from '../../core/postprocess/detection.js';
import type { Detection } from '../../core/postprocess/nms.js';
import { preprocessHash } from '../../core/preprocess/hash.js';
import type { GateSettings } from '../../core/quality/gate-settings.js';
import { toTensor } from '../../core/preprocess/tensor.js';
import type { ClassificationResult, DetectionResult, ModelLineage } from '../../core/records/prediction.js';
import { batchedModel, type BatchedModel } from '../../runtime/batched-model.js';
import type { BatchListener } from '../../runtime/batcher.js';
import type { RuntimeConfig } from '../../runtime/config.js';
import type { ModelManifest } from '../../runtime/manifest.js';
import type { TensorData } from '../../runtime/session.js';
import type { ModelStageName } from '../clock.js';
import type { Pipeline, StageContext } from '../contract.js';
import { openLocalSessions } from '../document.js';
import { gateSettingsOf, genericLayoutOf, type ClassificationManifest, type DetectionManifest } from './manifest.js';
import type { LoadedManifest } from './read-manifest.js';

/** Bumped whenever the steps around a user's model change what an image comes out as. */
export const OWN_PIPELINE_VERSION = '1.0.0';

/** A pipeline made from a user's manifest: the runner's contract, plus what `visionops parity` and the gate read of it. */
export interface OwnPipeline<Result extends ClassificationResult | DetectionResult> extends Pipeline<Result> {
  readonly task: 'classification' | 'detection';
  /** The manifest as read, its spec and labels resolved (the weights' bytes are not kept: the session holds the model). */
  readonly loaded: Omit<LoadedManifest, 'modelBytes'>;
  /** The gate its images pass: the manifest's `gate` object over the scene gate, judged against the model's input. */
  readonly gate: GateSettings;
}

export interface OwnPipelineOptions {
  name: string;
  onBatch?: BatchListener;
}

function output(outputs: Record<string, TensorData>, name: string, model: string): TensorData {
  const found = outputs[name];
  if (found === undefined) throw new VisionopsError('INFERENCE_FAILED', `Model ${model} returned no output named ${name}: fix output.name in its manifest.`, { model, outputs: Object.keys(outputs) });
  return found;
}

/** The graph's batch dimension: a fixed 1 (or a fixed number) turns the dynamic batcher off for the model. */
function maxBatchFor(loaded: Omit<LoadedManifest, 'modelBytes'>, runtime: RuntimeConfig): number {
  const first = loaded.model.inputs.find((input) => input.name === loaded.inputName)?.shape[0];
  return typeof first === 'number' ? 1 : runtime.batching.detection.maxBatchSize;
}

class OwnModelPipeline<Result extends ClassificationResult | DetectionResult> implements OwnPipeline<Result> {
  readonly version = OWN_PIPELINE_VERSION;
  readonly stages: readonly ModelStageName[];
  readonly decision: Pipeline<Result>['decision'];
  readonly gate: GateSettings;
  readonly loaded: Omit<LoadedManifest, 'modelBytes'>;

  constructor(
    readonly name: string,
    readonly task: 'classification' | 'detection',
    { modelBytes: _bytes, ...loaded }: LoadedManifest,
    readonly models: ModelLineage[],
    private readonly model: BatchedModel,
    private readonly decode: (outputs: Record<string, TensorData>, frame: Frame, placement: ReturnType<typeof toTensor>['placement']) => Result,
    decide: Pipeline<Result>['decision']['rule'],
    private readonly release: () => Promise<void>,
  ) {
    this.stages = [task];
    this.loaded = loaded;
    const gate = gateSettingsOf(loaded.manifest);
    if (!gate.success) throw gate.error;
    this.gate = gate.data;
    // The manifest's rule judges, whatever the runner's settings; the runner hashes it with the gate settings into each record's configHash.
    this.decision = { rule: decide, judged: () => loaded.manifest.decision };
  }

  async run(frame: Frame, { clock }: StageContext): Promise<Result> {
    return clock.time(this.task, async () => {
      const tensor = toTensor(frame, this.loaded.spec);
      const outputs = await this.model.infer({ [this.loaded.inputName]: { data: tensor.data, dims: tensor.dims } });
      return this.decode(outputs, frame, tensor.placement);
    });
  }

  /** Nothing to tell: a listener hears of boxes and lines of documents only, and a classification or detection answer comes whole. */
  replay(): void {}

  async close(): Promise<void> {
    await this.release();
  }
}

/** The model of a user's own pipeline as loaded (its weights' file, spec and labels); null for any other pipeline. */
export function ownModelOf(pipeline: Pipeline): ModelManifest | null {
  return pipeline instanceof OwnModelPipeline ? pipeline.loaded.model : null;
}

function classificationDecoder(manifest: ClassificationManifest, loaded: Omit<LoadedManifest, 'modelBytes'>) {
  const name = loaded.model.outputs[0].name;
  const { decode, topK } = manifest.output;
  return (outputs: Record<string, TensorData>): ClassificationResult => {
    const scores = output(outputs, name, manifest.name).data;
    return { labels: rankClasses(scores, loaded.labels, decode, topK).map(({ label, score }) => ({ label, score })) };
  };
}

function detectionDecoder(manifest: DetectionManifest, loaded: Omit<LoadedManifest, 'modelBytes'>) {
  const { output: out } = manifest;
  const options: DetectionOptions = { labels: loaded.labels, scoreThreshold: out.scoreThreshold, iouThreshold: out.iou, maxDetections: out.maxDetections };
  const first = loaded.model.outputs[0].name;
  const decodeRaw = (outputs: Record<string, TensorData>): Detection[] => {
    switch (out.decode) {
      case 'yolov5':
        return decodeYoloV5(output(outputs, first, manifest.name), options);
      case 'yolov8':
      case 'yolo11':
        return decodeYoloV8(output(outputs, first, manifest.name), options);
      case 'generic': {
        const names = out.outputs as NonNullable<typeof out.outputs>;
        return decodeBoxesScoresClasses(
          {
            boxes: output(outputs, names.boxes, manifest.name),
            scores: output(outputs, names.scores, manifest.name),
            ...(names.classes === undefined ? {} : { classes: output(outputs, names.classes, manifest.name) }),
          },
          genericLayoutOf(manifest),
          options,
        );
      }
    }
  };
  return (outputs: Record<string, TensorData>, frame: Frame, placement: ReturnType<typeof toTensor>['placement']): DetectionResult => ({
    boxes: detectionsToFrame(decodeRaw(outputs), placement, frame.width, frame.height).map(({ label, score, box }) => ({ label, score, box })),
  });
}

/**
 * Loads a pipeline from a user's manifest (already read by `readManifestFile`): the model in the
 * inference workers (or on this thread when `runtime.workers` is 0) behind its batcher, the
 * manifest's preprocessing, its decoder and its decision rule.
 *
 * @example
 * const pipeline = await loadOwnPipeline(await readManifestFile('examples/line-orientation/manifest.json'), config.runtime, { name: 'line-orientation' });
 */
export async function loadOwnPipeline(loaded: LoadedManifest, runtime: RuntimeConfig, options: OwnPipelineOptions): Promise<OwnPipeline<ClassificationResult> | OwnPipeline<DetectionResult>> {
  const { sessions, release } = await openLocalSessions([loaded.model], runtime);
  const model = batchedModel(sessions[0], { maxBatchSize: maxBatchFor(loaded, runtime), maxQueueDelayMicros: runtime.batching.detection.maxQueueDelayMicros, maxInFlight: Math.max(1, runtime.workers), onBatch: options.onBatch });
  const { manifest } = loaded;
  const lineage: ModelLineage[] = [{ role: manifest.task, stage: manifest.task, id: loaded.model.id, version: loaded.model.version, sha256: loaded.model.sha256, preprocessHash: await preprocessHash(loaded.spec) }];
  if (manifest.task === 'classification') {
    return new OwnModelPipeline<ClassificationResult>(options.name, 'classification', loaded, lineage, model, classificationDecoder(manifest, loaded), (quality, result) => decideClassification(quality, result, manifest.decision), release);
  }
  return new OwnModelPipeline<DetectionResult>(options.name, 'detection', loaded, lineage, model, detectionDecoder(manifest, loaded), (quality, result) => decideDetection(quality, result, manifest.decision), release);
}
