import { createHash } from 'node:crypto';
import { configHash } from '../config/load.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { Config } from '../config/schema.js';
import { decideDocument } from '../core/decision/document.js';
import { cropRegion } from '../core/preprocess/region.js';
import { runQualityGate } from '../core/quality/gate.js';
import type { QualityReport } from '../core/quality/types.js';
import { setDecodeThreads } from '../image/decode.js';
import { ingestImage } from '../image/ingest.js';
import type { IngestedImage } from '../image/types.js';
import { newRecordId } from '../store/record-id.js';
import type { BlobStore, PredictionStore } from '../store/store.js';
import { ResultCache, type CachedAnswer, type CacheHit } from './cache.js';
import type { DocumentPipeline, ReadListener } from './document.js';
import type { SharedAnswers } from './shared-answers.js';
import type { DocumentResult, ModelLineage, PredictionRecord, Timings } from '../core/records/prediction.js';

export interface PredictionServiceDeps {
  config: Config;
  pipeline: DocumentPipeline;
  store: PredictionStore;
  blobs: BlobStore;
  /** Told of every record once it is saved, in order: review queues, monitors. */
  observers?: PredictionObserver[];
  /** The answers cache; by default one of `config.cache.maxBytes` is made when `config.cache.enabled`. */
  cache?: ResultCache | null;
  /** Answers shared with other processes (Redis), asked after this process's own cache misses. */
  shared?: SharedAnswers | null;
}

/** Told of one prediction's progress as it happens (the SSE route streams these). */
export interface PredictionListener extends ReadListener {
  /** The gate's report, before any model runs. */
  quality?(report: QualityReport): void;
}

/** What an observer learns of one prediction: the saved record, the bytes as sent and the decoded image. */
export interface RecordedPrediction {
  record: PredictionRecord;
  bytes: Uint8Array;
  image: IngestedImage;
}

export interface PredictionObserver {
  /** Awaited before `predict` returns; a throw fails the request, so an observer that may lose work must say so with a VisionopsError. */
  recorded(prediction: RecordedPrediction): void | Promise<void>;
}

/** What `checkOnly` tells: the image as ingest saw it and the gate's report, no model run. */
export interface CheckOutcome {
  image: PredictionRecord['image'];
  quality: QualityReport;
  timings: Timings;
}

export interface PredictionService {
  /**
   * One image through the whole path: ingest, gate, models (only when the gate passes), decision,
   * the image kept when a person must review it, and the record saved with its lineage. Throws the
   * ingest errors (EMPTY_BODY, IMAGE_TOO_LARGE, ...), the model errors and STORE_UNAVAILABLE.
   */
  predict(bytes: Uint8Array, source: Record<string, unknown>, listener?: PredictionListener): Promise<PredictionRecord>;
  /** Ingest and gate only: what `visionops check` prints. */
  checkOnly(bytes: Uint8Array): Promise<CheckOutcome>;
}

/**
 * @example
 * const service = createPredictionService({ config, pipeline, store, blobs });
 * const record = await service.predict(bytes, { channel: 'cli', file: 'scan.jpg' });
 */
export function createPredictionService({ config, pipeline, store, blobs, observers = [], cache, shared = null }: PredictionServiceDeps): PredictionService {
  setDecodeThreads(config.runtime.decodeThreads);
  const judgedBy = configHash(config);
  const { reviewThreshold } = config.pipeline.decision;
  const answers = cache === undefined ? (config.cache.enabled ? new ResultCache(config.cache.maxBytes) : null) : cache;
  const near = config.cache.nearDuplicate;
  // Everything that can change an answer: the pipeline, its weights and preprocessing, and the settings.
  const scope = createHash('sha256')
    .update(canonicalJson({ pipeline: [pipeline.id, pipeline.version], models: pipeline.models, ingest: config.ingest, quality: config.quality, settings: config.pipeline }))
    .digest('hex')
    .slice(0, 16);

  /** A new record repeating a cached answer, and its bytes kept again if a person must review it. */
  async function repeat(hit: CacheHit, bytes: Uint8Array, source: Record<string, unknown>, image: IngestedImage | null, started: number, timings: Timings, listener: PredictionListener) {
    const { answer } = hit;
    tellCached(answer, listener);
    const blob = await timed(timings, 'store', () => (answer.decision === 'review' ? blobs.put(bytes) : null));
    timings.total = round(performance.now() - started);
    const createdAt = new Date();
    const record: PredictionRecord = {
      id: newRecordId(createdAt.getTime()),
      createdAt: createdAt.toISOString(),
      source: { ...source, exif: image === null ? answer.exif : image.metadata.exif },
      image: image === null ? answer.image : describeImage(image),
      quality: answer.quality,
      decision: answer.decision,
      reasons: answer.reasons,
      result: answer.result,
      lineage: {
        ...answer.lineage,
        image: image === null ? answer.lineage.image : { sha256: image.sha256, phash: image.phash },
        cache: { hit: hit.kind, of: answer.id, distance: hit.distance },
      },
      timings,
      blob,
    };
    return record;
  }

  async function finish(record: PredictionRecord, bytes: Uint8Array, image: IngestedImage): Promise<PredictionRecord> {
    await store.save(record);
    for (const observer of observers) await observer.recorded({ record, bytes, image });
    return record;
  }

  return {
    async predict(bytes, source, listener = {}) {
      const started = performance.now();
      const createdAt = new Date();
      const timings: Timings = {};

      const sha256 = answers === null ? null : createHash('sha256').update(bytes).digest('hex');
      let exact = answers === null || sha256 === null ? undefined : await timed(timings, 'cache', () => answers.exact(scope, sha256));
      if (exact === undefined && answers !== null && shared !== null && sha256 !== null) {
        const answer = await timed(timings, 'sharedCache', () => shared.get(scope, sha256));
        if (answer !== null) {
          answers.put(scope, sha256, answer);
          exact = { kind: 'exact', answer, distance: 0 };
        }
      }
      if (exact !== undefined) {
        // Observers are promised the decoded image; without any, a repeat never decodes.
        const image = observers.length === 0 ? null : await timed(timings, 'decode', () => ingestImage(bytes, config.ingest, source));
        const record = await repeat(exact, bytes, source, image, started, timings, listener);
        if (image === null) {
          await store.save(record);
          return record;
        }
        return finish(record, bytes, image);
      }

      const ingested = await timed(timings, 'decode', () => ingestImage(bytes, config.ingest, source));
      if (answers !== null && near.enabled) {
        const hit = await timed(timings, 'cache', () => answers.near(scope, ingested.phash, near.maxDistance));
        if (hit !== undefined) return finish(await repeat(hit, bytes, source, ingested, started, timings, listener), bytes, ingested);
      }
      const roi = config.pipeline.roi;
      const frame = roi === null ? ingested.frame : await timed(timings, 'roi', () => cropRegion(ingested.frame, roi));
      const quality = await timed(timings, 'gate', () => runQualityGate(frame, config.quality, roi === null ? ingested.luma : undefined));
      listener.quality?.(quality);

      let result: DocumentResult | null = null;
      // Only models that saw the image belong in its lineage: a page the gate stops has none.
      let models: ModelLineage[] = [];
      if (quality.verdict !== 'fail') {
        const read = await pipeline.read(frame, { exifOrientation: ingested.exifOrientation }, listener);
        result = read.result;
        models = pipeline.models;
        for (const [stage, ms] of Object.entries(read.timings)) timings[stage] = round(ms);
      }
      const { decision, reasons } = await timed(timings, 'decide', () => decideDocument(quality, result, { reviewThreshold }));
      // The row insert that follows is not in its own timings: it takes tens of microseconds in SQLite.
      const blob = await timed(timings, 'store', () => (decision === 'review' ? blobs.put(bytes) : null));
      timings.total = round(performance.now() - started);

      const record: PredictionRecord = {
        id: newRecordId(createdAt.getTime()),
        createdAt: createdAt.toISOString(),
        source: { ...ingested.metadata.source, exif: ingested.metadata.exif },
        image: describeImage(ingested),
        quality,
        decision,
        reasons,
        result,
        lineage: {
          pipeline: { id: pipeline.id, version: pipeline.version },
          models,
          image: { sha256: ingested.sha256, phash: ingested.phash },
          configHash: judgedBy,
        },
        timings,
        blob,
      };
      await finish(record, bytes, ingested);
      if (answers !== null) {
        const { id, image, quality: q, decision: d, reasons: r, result: res, lineage } = record;
        const answer: CachedAnswer = { id, image, quality: q, decision: d, reasons: r, result: res, lineage, exif: ingested.metadata.exif };
        answers.put(scope, ingested.sha256, answer);
        await shared?.put(scope, ingested.sha256, answer);
      }
      return record;
    },

    checkOnly(bytes) {
      return checkImage(bytes, config);
    },
  };
}

/** A repeated answer told to a listener in the order a computed one would be. */
function tellCached(answer: CachedAnswerLike, listener: PredictionListener): void {
  listener.quality?.(answer.quality);
  if (answer.result === null) return;
  listener.boxes?.(
    answer.result.lines.map((line) => line.box),
    answer.result.orientation.rotation,
  );
  answer.result.lines.forEach((line, i) => listener.line?.(i, line));
}

type CachedAnswerLike = Pick<PredictionRecord, 'quality' | 'result'>;

/** Ingest and gate without models or a store, for `visionops check` and the edge. */
export async function checkImage(bytes: Uint8Array, config: Config): Promise<CheckOutcome> {
  const started = performance.now();
  const timings: Timings = {};
  const ingested = await timed(timings, 'decode', () => ingestImage(bytes, config.ingest));
  const roi = config.pipeline.roi;
  const frame = roi === null ? ingested.frame : cropRegion(ingested.frame, roi);
  const quality = await timed(timings, 'gate', () => runQualityGate(frame, config.quality, roi === null ? ingested.luma : undefined));
  timings.total = round(performance.now() - started);
  return { image: describeImage(ingested), quality, timings };
}

function describeImage(image: IngestedImage): PredictionRecord['image'] {
  return { sha256: image.sha256, phash: image.phash, format: image.format, width: image.width, height: image.height, bytes: image.bytes };
}

async function timed<T>(timings: Timings, stage: string, work: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await work();
  timings[stage] = round(performance.now() - started);
  return value;
}

/** Hundredths of a millisecond: finer digits are noise from the timer and the scheduler. */
function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
