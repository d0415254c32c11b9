import { isVisionopsError, VisionopsError } from '../core/errors.js';
import type { Timings } from '../core/records/prediction.js';

/**
 * The names a record's timings use: the path's own stages (ingest times as `decode` and the record
 * stage's blob write as `store`, as records have always named them), the cache lookups, and the
 * model stages a pipeline declares. Classification and detection pipelines add theirs here.
 */
export type StageName = 'cache' | 'sharedCache' | 'decode' | 'roi' | 'gate' | ModelStageName | 'decide' | 'store';

/** Stages a pipeline runs between the gate and the decision. */
export type ModelStageName = 'orientation' | 'detection' | 'crop' | 'classification' | 'recognitionFast' | 'recognition';

/**
 * The one clock of a prediction: every stage, the path's and the pipeline's, adds its wall time
 * here, so the record, the metrics and the stream all read the same figures. Every stage starts
 * here too, so it is here that a prediction whose `signal` has aborted (its client gone, the
 * server shutting down) stops, before the next stage: CANCELLED, and nothing recorded.
 */
export class StageClock {
  readonly startedAt = new Date();
  private readonly started = performance.now();
  private readonly spent = new Map<StageName, number>();

  constructor(private readonly signal?: AbortSignal) {}

  /** Throws CANCELLED once the signal has aborted. */
  checkpoint(): void {
    if (this.signal?.aborted !== true) return;
    const reason: unknown = this.signal.reason;
    throw isVisionopsError(reason) ? reason : new VisionopsError('CANCELLED', 'The client closed the connection before the answer: the prediction was stopped and not recorded.');
  }

  /** Stages a pipeline will run start at zero, so a record shows them even when they had no work. */
  expect(stages: readonly StageName[]): void {
    for (const stage of stages) if (!this.spent.has(stage)) this.spent.set(stage, 0);
  }

  /** Runs `work` unless the prediction was cancelled, and adds its wall time to `stage` (a stage run twice, e.g. detection after a turn, adds up). */
  async time<T>(stage: StageName, work: () => T | Promise<T>): Promise<T> {
    this.checkpoint();
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.spent.set(stage, (this.spent.get(stage) ?? 0) + performance.now() - start);
    }
  }

  /** Milliseconds per stage and since the clock started (`total`), in hundredths: finer digits are timer and scheduler noise. */
  timings(): Timings {
    const timings: Timings = {};
    for (const [stage, ms] of this.spent) timings[stage] = round(ms);
    timings.total = round(performance.now() - this.started);
    return timings;
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
