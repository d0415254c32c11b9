import { createHash } from 'node:crypto';
import type { TextRegions } from '../core/edge/regions.js';
import { VisionopsError } from '../core/errors.js';
import type { PredictionRecord } from '../core/records/prediction.js';
import type { PredictionStore } from '../store/store.js';
import type { PredictionListener } from './contract.js';
import type { PredictionService } from './service.js';

/** A prediction asked for under an idempotency key: `replayed` when the record was kept earlier (or by a request still under way) and nothing ran. */
export interface KeyedPrediction {
  record: PredictionRecord;
  replayed: boolean;
}

export interface IdempotentService extends PredictionService {
  /**
   * At most one record per key: the record kept under `key` when there is one, without running
   * anything (the listener hears nothing of it); the answer of a request with the same key still under way in this process, once it
   * has one; otherwise a prediction saved under the key (whose unique index keeps one record when
   * two processes race). A key that names another image or pipeline is IDEMPOTENCY_KEY_REUSED.
   * With `regions` the image is the page rebuilt from them, and the regions are read (`PredictOptions.regions`).
   */
  predictOnce(bytes: Uint8Array, source: Record<string, unknown>, key: string, listener?: PredictionListener, signal?: AbortSignal, regions?: TextRegions): Promise<KeyedPrediction>;
}

/**
 * The key of one file of a batch (`visionops run`): its content and everything that makes the
 * answer (the service's scope), so running the same files through the same pipeline again finds
 * them recorded, and a changed pipeline, model or setting predicts them again.
 */
export function batchKey(scope: string, imageSha256: string): string {
  return `run:${scope}:${imageSha256}`;
}

/** The key of a request's `Idempotency-Key`, scoped by who sent it: one client cannot reach another's record by sending its key. */
export function requestKey(principal: string, key: string): string {
  return `request:${createHash('sha256').update(JSON.stringify([principal, key])).digest('hex')}`;
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * `service` answering once per idempotency key. The key is looked up before ingest, so a
 * repeat costs one indexed read and no model time.
 */
export function withIdempotency(service: PredictionService, store: Pick<PredictionStore, 'findByIdempotencyKey'>): IdempotentService {
  const underWay = new Map<string, { sha256: string; record: Promise<PredictionRecord> }>();

  function sameRequest(sha256: string, record: PredictionRecord): void {
    if (record.image.sha256 === sha256 && record.lineage.pipeline.id === service.pipeline.name) return;
    throw new VisionopsError(
      'IDEMPOTENCY_KEY_REUSED',
      `This Idempotency-Key was used for another image or pipeline (record ${record.id}): use a new key for each new request, and the same key only to retry it.`,
      { record: record.id },
    );
  }

  async function predictOnce(bytes: Uint8Array, source: Record<string, unknown>, key: string, listener: PredictionListener = {}, signal?: AbortSignal, regions?: TextRegions): Promise<KeyedPrediction> {
    const sha256 = sha256Of(bytes);
    const pending = underWay.get(key);
    if (pending !== undefined) {
      if (pending.sha256 !== sha256) throw new VisionopsError('IDEMPOTENCY_KEY_REUSED', 'A request with this Idempotency-Key and another image is under way: use a new key for each new request, and the same key only to retry it.');
      return { record: await pending.record, replayed: true };
    }
    const answer = (async (): Promise<KeyedPrediction> => {
      const kept = await store.findByIdempotencyKey(key);
      if (kept !== null) {
        sameRequest(sha256, kept);
        return { record: kept, replayed: true };
      }
      const record = await service.predict(bytes, source, listener, { idempotencyKey: key, signal, regions });
      // Another process may have saved under the key first: the store then returned its record, which this one ran again.
      sameRequest(sha256, record);
      return { record, replayed: false };
    })();
    const record = answer.then((outcome) => outcome.record);
    // Those waiting on it see its failure; with none waiting, the failure is this request's alone.
    record.catch(() => undefined);
    underWay.set(key, { sha256, record });
    try {
      return await answer;
    } finally {
      underWay.delete(key);
    }
  }

  return { ...service, predictOnce };
}
