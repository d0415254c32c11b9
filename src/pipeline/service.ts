import { configHash } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { decideDocument } from '../core/decision/document.js';
import { runQualityGate } from '../core/quality/gate.js';
import type { QualityReport } from '../core/quality/types.js';
import { ingestImage } from '../image/ingest.js';
import type { IngestedImage } from '../image/types.js';
import { newRecordId } from '../store/record-id.js';
import type { BlobStore, PredictionStore } from '../store/store.js';
import type { DocumentPipeline } from './document.js';
import type { DocumentResult, ModelLineage, PredictionRecord, Timings } from './types.js';

export interface PredictionServiceDeps {
  config: Config;
  pipeline: DocumentPipeline;
  store: PredictionStore;
  blobs: BlobStore;
  /** Told of every record once it is saved, in order: review queues, monitors. */
  observers?: PredictionObserver[];
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
  predict(bytes: Uint8Array, source: Record<string, unknown>): Promise<PredictionRecord>;
  /** Ingest and gate only: what `visionops check` prints. */
  checkOnly(bytes: Uint8Array): Promise<CheckOutcome>;
}

/**
 * @example
 * const service = createPredictionService({ config, pipeline, store, blobs });
 * const record = await service.predict(bytes, { channel: 'cli', file: 'scan.jpg' });
 */
export function createPredictionService({ config, pipeline, store, blobs, observers = [] }: PredictionServiceDeps): PredictionService {
  const judgedBy = configHash(config);
  const { reviewThreshold } = config.pipeline.decision;

  return {
    async predict(bytes, source) {
      const started = performance.now();
      const createdAt = new Date();
      const timings: Timings = {};
      const ingested = await timed(timings, 'decode', () => ingestImage(bytes, config.ingest, source));
      const quality = await timed(timings, 'gate', () => runQualityGate(ingested.frame, config.quality));

      let result: DocumentResult | null = null;
      // Only models that saw the image belong in its lineage: a page the gate stops has none.
      let models: ModelLineage[] = [];
      if (quality.verdict !== 'fail') {
        const read = await pipeline.read(ingested.frame, { exifOrientation: ingested.exifOrientation });
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
      await store.save(record);
      for (const observer of observers) await observer.recorded({ record, bytes, image: ingested });
      return record;
    },

    checkOnly(bytes) {
      return checkImage(bytes, config);
    },
  };
}

/** Ingest and gate without models or a store, for `visionops check` and the edge. */
export async function checkImage(bytes: Uint8Array, config: Config): Promise<CheckOutcome> {
  const started = performance.now();
  const timings: Timings = {};
  const ingested = await timed(timings, 'decode', () => ingestImage(bytes, config.ingest));
  const quality = await timed(timings, 'gate', () => runQualityGate(ingested.frame, config.quality));
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
