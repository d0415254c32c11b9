import { createHash } from 'node:crypto';
import type { TextRegions } from '../core/edge/regions.js';
import type { PredictionRecord } from '../core/records/prediction.js';
import type { IngestedImage } from '../image/types.js';
import type { CacheConfig, CacheHit, CachedAnswer, ResultCache } from './cache.js';
import { StageClock } from './clock.js';
import type { PredictionListener } from './contract.js';
import { describeImage, type StageRunner } from './runner.js';
import type { SharedAnswers } from './shared-answers.js';
import { liftEdgeRoute } from './edge-lineage.js';

export type Predict = (bytes: Uint8Array, source?: Record<string, unknown>, listener?: PredictionListener, options?: PredictOptions) => Promise<PredictionRecord>;

/**
 * How one prediction runs: stopped before its next stage when `signal` aborts (the client gone:
 * CANCELLED, nothing recorded), and saved under `idempotencyKey`, so a repeat returns the record kept first.
 */
export interface PredictOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** The image is a page rebuilt from these regions: they are read, not the page, and the cache is not asked (its answers are keyed by bytes, a reading here by regions). */
  regions?: TextRegions;
}

export interface CacheTiers {
  answers: ResultCache;
  /** Answers shared with other processes (Redis), asked after this process's own cache misses. */
  shared: SharedAnswers | null;
  nearDuplicate: CacheConfig['nearDuplicate'];
  /** Everything that can change an answer (pipeline, weights, preprocessing, settings), hashed: answers of another scope never match. */
  scope: string;
}

/**
 * The runner's whole path behind the answer cache: the same bytes (or, when enabled, a near copy
 * found once ingest has hashed the pixels) are answered with a new record repeating the earlier
 * answer, told to the listener as a computed one would be, and recorded by the runner's record
 * stage like any other; everything else runs the path and is remembered.
 */
export function withCache(runner: StageRunner, { answers, shared, nearDuplicate, scope }: CacheTiers): Predict {
  async function exactHit(bytes: Uint8Array, clock: StageClock): Promise<CacheHit | undefined> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const hit = await clock.time('cache', () => answers.exact(scope, sha256));
    if (hit !== undefined || shared === null) return hit;
    const answer = await clock.time('sharedCache', () => shared.get(scope, sha256));
    if (answer === null) return undefined;
    answers.put(scope, sha256, answer);
    return { kind: 'exact', answer, distance: 0 };
  }

  /** A new record repeating a cached answer, its bytes kept again if a person must review it. */
  async function repeat(hit: CacheHit, bytes: Uint8Array, source: Record<string, unknown>, image: IngestedImage | null, clock: StageClock, listener: PredictionListener, { idempotencyKey }: PredictOptions) {
    const { answer } = hit;
    listener.quality?.(answer.quality);
    if (answer.result !== null) runner.pipeline?.replay(answer.result, listener);
    const seen = image === null ? null : { image, ...(await runner.crop(image, clock)) };
    const edge = liftEdgeRoute(source);
    const { edge: _firstRoute, ...answerLineage } = answer.lineage;
    const draft = {
      source: { ...edge.source, exif: image === null ? answer.exif : image.metadata.exif },
      image: image === null ? answer.image : describeImage(image),
      quality: answer.quality,
      decision: answer.decision,
      reasons: answer.reasons,
      result: answer.result,
      lineage: {
        ...answerLineage,
        image: image === null ? answer.lineage.image : { sha256: image.sha256, phash: image.phash },
        cache: { hit: hit.kind, of: answer.id, distance: hit.distance },
        ...edge.lineage,
      },
    };
    return runner.record(draft, bytes, seen, clock, idempotencyKey);
  }

  async function remember(record: PredictionRecord, image: IngestedImage): Promise<void> {
    const { id, image: described, quality, decision, reasons, result, lineage } = record;
    const answer: CachedAnswer = { id, image: described, quality, decision, reasons, result, lineage, exif: image.metadata.exif };
    answers.put(scope, image.sha256, answer);
    await shared?.put(scope, image.sha256, answer);
  }

  return async (bytes, source = {}, listener = {}, options = {}) => {
    if (options.regions !== undefined) return runner.run(bytes, { source, listener, ...options });
    const clock = new StageClock(options.signal);
    const exact = await exactHit(bytes, clock);
    if (exact !== undefined) {
      // Observers are promised the decoded image; without any, a repeat never decodes.
      const image = runner.hasObservers ? await runner.ingest(bytes, clock, source) : null;
      return repeat(exact, bytes, source, image, clock, listener, options);
    }
    const image = await runner.ingest(bytes, clock, source);
    if (nearDuplicate.enabled) {
      const near = await clock.time('cache', () => answers.near(scope, image.phash, nearDuplicate.maxDistance));
      if (near !== undefined) return repeat(near, bytes, source, image, clock, listener, options);
    }
    const record = await runner.resume(image, bytes, { source, listener, clock, idempotencyKey: options.idempotencyKey });
    await remember(record, image);
    return record;
  };
}
