import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import type { Config } from '../config/schema.js';
import { setDecodeThreads } from '../image/decode.js';
import type { DecodeSize } from '../image/ingest.js';
import type { QualityReport } from '../core/quality/types.js';
import type { PredictionRecord, Timings } from '../core/records/prediction.js';
import type { BlobStore, PredictionStore } from '../store/store.js';
import { ResultCache } from './cache.js';
import { withCache, type PredictOptions } from './cached-prediction.js';
import type { Pipeline, PredictionListener } from './contract.js';
import { configuredPipeline, unknownPipeline } from './pipelines.js';
import { pathSettings, StageRunner, describeImage, type PredictionObserver } from './runner.js';
import type { IdempotentService } from './idempotency.js';
import type { SharedAnswers } from './shared-answers.js';

export interface PredictionServiceDeps {
  config: Config;
  /** Any pipeline that meets the contract; its settings are the ones configured under its name. */
  pipeline: Pipeline;
  store: PredictionStore;
  blobs: BlobStore;
  /** Told of every record once it is saved, in order: review queues, monitors. */
  observers?: PredictionObserver[];
  /** The answers cache; by default one of `config.cache.maxBytes` is made when `config.cache.enabled`. */
  cache?: ResultCache | null;
  /** Answers shared with other processes (Redis), asked after this process's own cache misses. */
  shared?: SharedAnswers | null;
}

/** What `visionops check` tells: the image as ingest saw it and the gate's report, no model run. */
export interface CheckOutcome {
  image: PredictionRecord['image'];
  quality: QualityReport;
  timings: Timings;
}

export interface PredictionService {
  /** The pipeline this service runs. */
  readonly pipeline: Pipeline;
  /** Everything that can change an answer (pipeline, weights, preprocessing, settings), hashed: the cache's scope, and what a batch's idempotency keys are made of. */
  readonly scope: string;
  /**
   * One image through the whole path: ingest, gate, models (only when the gate passes), decision,
   * the image kept when a person must review it, and the record saved with its lineage. Throws the
   * ingest errors (EMPTY_BODY, IMAGE_TOO_LARGE, ...), the model errors and STORE_UNAVAILABLE;
   * CANCELLED, with nothing recorded, when `options.signal` aborts before the record is saved.
   * With `options.idempotencyKey` the record is saved under the key, or the one already saved under
   * it is returned (see `withIdempotency`, which looks before running the models).
   */
  predict(bytes: Uint8Array, source: Record<string, unknown>, listener?: PredictionListener, options?: PredictOptions): Promise<PredictionRecord>;
}

/**
 * One pipeline's stage runner, recording into the store and telling the observers, behind the
 * answer cache when `config.cache.enabled`.
 *
 * @example
 * const service = createPredictionService({ config, pipeline, store, blobs });
 * const record = await service.predict(bytes, { channel: 'cli', file: 'scan.jpg' });
 */
export function createPredictionService({ config, pipeline, store, blobs, observers = [], cache, shared = null }: PredictionServiceDeps): PredictionService {
  setDecodeThreads(config.runtime.decodeThreads);
  const { settings } = configuredPipeline(config, pipeline.name);
  const runner = new StageRunner(pathSettings(config, settings), pipeline, { store, blobs, observers });
  const answers = cache === undefined ? (config.cache.enabled ? new ResultCache(config.cache.maxBytes) : null) : cache;
  const scope = createHash('sha256')
    .update(canonicalJson({ pipeline: [pipeline.name, pipeline.version], models: pipeline.models, ingest: config.ingest, quality: config.quality, settings }))
    .digest('hex')
    .slice(0, 16);
  const predict =
    answers === null
      ? (bytes: Uint8Array, source = {}, listener = {}, options: PredictOptions = {}) => runner.run(bytes, { source, listener, ...options })
      : withCache(runner, { answers, shared, nearDuplicate: config.cache.nearDuplicate, scope });
  return { pipeline, scope, predict };
}

/**
 * Ingest and gate as `runner`'s pipeline runs them, without models or a store: `visionops check`.
 * A large JPEG decodes reduced (see `RunOptions.decode`); `decode: 'full'` gates it as the predict
 * path does.
 */
export async function checkImage(runner: StageRunner, bytes: Uint8Array, decode: DecodeSize = 'reduced'): Promise<CheckOutcome> {
  const { image, quality, timings } = await runner.run(bytes, { until: 'gate', decode });
  return { image: describeImage(image), quality, timings };
}

/** The services of every configured pipeline, chosen by name (`POST /v1/predict?pipeline=NAME`), the first by default. */
export interface PredictionServices {
  readonly names: string[];
  /** The named pipeline's service, the first one's without a name; throws UNKNOWN_PIPELINE for a name not configured. */
  get(name?: string): IdempotentService;
}

export function choosePipelines(services: IdempotentService[]): PredictionServices {
  const names = services.map((service) => service.pipeline.name);
  return {
    names,
    get(name) {
      if (name === undefined) return services[0];
      const found = services.find((service) => service.pipeline.name === name);
      if (found === undefined) throw unknownPipeline(name, names);
      return found;
    },
  };
}
