import { VisionopsError } from '../core/errors.js';
import type { AdmissionConfig } from './overload-config.js';

/** A slot held by an admitted prediction; `release` gives it back (once). */
export interface Slot {
  /** Aborts when the client goes or when the server abandons its work on shutdown. */
  readonly signal: AbortSignal;
  release(): void;
}

interface Waiter {
  admit(): void;
  refuse(error: unknown): void;
}

/** Mean prediction time assumed before one has been measured. */
const FIRST_GUESS_MS = 500;

/**
 * The bounded queue in front of the models: `maxInFlight` predictions run, `maxQueued` wait in
 * order, and one more is refused at once with OVERLOADED and a Retry-After of about the time the
 * work ahead takes, so admitted work keeps its latency instead of everyone sharing a growing
 * backlog. A waiter whose client goes leaves the queue; `abandon` aborts everything admitted,
 * on shutdown.
 *
 * @example
 * const admission = new Admission({ maxInFlight: 2, maxQueued: 2 });
 * const slot = await admission.enter(clientGone);
 * try { await service.predict(bytes, source, listener, slot.signal); } finally { slot.release(); }
 */
export class Admission {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private readonly shutdown = new AbortController();
  private meanMs = FIRST_GUESS_MS;

  constructor(private readonly limits: AdmissionConfig) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Whether one more prediction would be refused now: checked before a body is read, so a refusal costs no upload. */
  get full(): boolean {
    return this.running >= this.limits.maxInFlight && this.waiting.length >= this.limits.maxQueued;
  }

  /** Seconds until a slot is likely free: the work in flight and waiting, shared among the slots. */
  get retryAfterSeconds(): number {
    const ahead = this.running + this.waiting.length;
    return Math.max(1, Math.ceil((ahead * this.meanMs) / this.limits.maxInFlight / 1000));
  }

  /** A slot now, or once the predictions ahead finish; OVERLOADED when the queue is full, CANCELLED when `signal` aborts first. */
  async enter(signal: AbortSignal): Promise<Slot> {
    signal.throwIfAborted();
    if (this.shutdown.signal.aborted) throw this.overloaded('the server is shutting down');
    if (this.running < this.limits.maxInFlight) {
      this.running++;
      return this.slot(signal);
    }
    if (this.waiting.length >= this.limits.maxQueued) throw this.overloaded();
    await new Promise<void>((admit, refuse) => {
      const waiter: Waiter = { admit, refuse };
      const leave = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        refuse(signal.reason);
      };
      waiter.admit = () => {
        signal.removeEventListener('abort', leave);
        admit();
      };
      signal.addEventListener('abort', leave, { once: true });
      this.waiting.push(waiter);
    });
    // The slot was handed over by the prediction that released it, still counted as running.
    return this.slot(signal);
  }

  /** Aborts every admitted prediction and refuses those still waiting: shutdown's deadline has come. */
  abandon(): void {
    this.shutdown.abort(new VisionopsError('CANCELLED', 'The server shut down before this prediction finished: send it again.'));
    for (const waiter of this.waiting.splice(0)) waiter.refuse(this.overloaded('the server is shutting down'));
  }

  private slot(signal: AbortSignal): Slot {
    const started = performance.now();
    let released = false;
    return {
      signal: AbortSignal.any([signal, this.shutdown.signal]),
      release: () => {
        if (released) return;
        released = true;
        // A moving mean over about the last ten predictions, for Retry-After.
        this.meanMs += (performance.now() - started - this.meanMs) / 10;
        const next = this.waiting.shift();
        if (next === undefined) this.running--;
        else next.admit();
      },
    };
  }

  /** The refusal of one prediction too many: OVERLOADED, with the Retry-After seconds in its details. */
  overloaded(why = `${this.running} predictions run and ${this.waiting.length} wait`): VisionopsError {
    const retryAfterSeconds = this.retryAfterSeconds;
    return new VisionopsError(
      'OVERLOADED',
      `The server is at capacity (${why}; server.admission): retry after ${retryAfterSeconds} s, as Retry-After says.`,
      { retryAfterSeconds },
    );
  }
}
