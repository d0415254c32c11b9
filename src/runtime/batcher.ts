/** What the batcher tells about every batch it sends: the metrics module turns these into histograms. */
export interface BatchEvent {
  /** The model (or other name) the batcher serves. */
  name: string;
  /** The bucket the batch was formed in (same-shaped requests share a bucket). */
  bucket: string;
  size: number;
  /** Per request in the batch, how long it waited in the queue, in microseconds. */
  queueDelaysMicros: number[];
}

export type BatchListener = (event: BatchEvent) => void;

export interface BatcherOptions<I, O> {
  name: string;
  /** Requests in one batch at most; 1 turns batching off. */
  maxBatchSize: number;
  /** How long the oldest request may wait for company before its batch goes anyway (Triton's max_queue_delay_microseconds). */
  maxQueueDelayMicros: number;
  /** Batches running at once (one per inference worker). */
  maxInFlight: number;
  /** Only requests with the same key share a batch: e.g. the tensor shape without the batch dimension. */
  keyOf(item: I): string;
  /** Runs one batch; resolves to one output per item, in order. */
  run(items: I[]): Promise<O[]>;
  onBatch?: BatchListener;
}

interface Pending<I, O> {
  item: I;
  enqueuedAt: number;
  resolve(output: O): void;
  reject(error: unknown): void;
}

/**
 * Triton-style dynamic batcher. A request joins the queue of its bucket; a bucket is sent as soon
 * as it holds `maxBatchSize` requests, or when its oldest request has waited
 * `maxQueueDelayMicros`, whichever comes first, provided fewer than `maxInFlight` batches run.
 * What a bucket holds is shared evenly among the free slots (eight requests and two idle workers
 * make two batches of four), so no worker idles while another runs everything. Requests submitted
 * in the same turn of the event loop always meet, even with no queue delay. While every slot is
 * busy the queues keep filling, so batches grow with load without waiting longer than the work
 * ahead of them takes anyway.
 *
 * @example
 * const batcher = new DynamicBatcher({ name: 'rec', maxBatchSize: 8, maxQueueDelayMicros: 2000, maxInFlight: 2,
 *   keyOf: (t) => t.dims.slice(1).join('x'), run: (tensors) => runStacked(tensors) });
 * const output = await batcher.submit(tensor);
 */
export class DynamicBatcher<I, O> {
  private readonly queues = new Map<string, Pending<I, O>[]>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private dispatchScheduled = false;

  constructor(private readonly options: BatcherOptions<I, O>) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const key = this.options.keyOf(item);
      let queue = this.queues.get(key);
      if (queue === undefined) {
        queue = [];
        this.queues.set(key, queue);
      }
      queue.push({ item, enqueuedAt: performance.now(), resolve, reject });
      this.dispatchSoon();
    });
  }

  /**
   * Dispatches once the current turn of the event loop is over, so that requests submitted
   * together (the lines of a page, callers woken by the same finished batch) meet in one batch
   * even with no queue delay.
   */
  private dispatchSoon(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  /** Requests waiting, over all buckets: a queue depth gauge. */
  get queued(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.length;
    return total;
  }

  private dispatch(): void {
    const { maxBatchSize, maxQueueDelayMicros, maxInFlight } = this.options;
    const now = performance.now();
    while (this.inFlight < maxInFlight) {
      const ready = this.readyBucket(now);
      if (ready === undefined) break;
      const queue = this.queues.get(ready)!;
      // Spread what waits over the free slots rather than queueing it all behind one worker.
      const batch = queue.splice(0, Math.min(maxBatchSize, Math.ceil(queue.length / (maxInFlight - this.inFlight))));
      if (queue.length === 0) this.queues.delete(ready);
      this.send(ready, batch, now);
    }
    if (this.inFlight >= maxInFlight || this.queues.size === 0) return;
    // Something waits for company: wake when the oldest of it has waited long enough.
    let due = Infinity;
    for (const queue of this.queues.values()) due = Math.min(due, queue[0].enqueuedAt + maxQueueDelayMicros / 1000);
    this.wakeAt(due, now);
  }

  /** A full bucket first, else the bucket whose oldest request is due, else none. */
  private readyBucket(now: number): string | undefined {
    const { maxBatchSize, maxQueueDelayMicros } = this.options;
    let due: string | undefined;
    let oldest = Infinity;
    for (const [key, queue] of this.queues) {
      if (queue.length >= maxBatchSize) return key;
      const enqueuedAt = queue[0].enqueuedAt;
      if (now - enqueuedAt >= maxQueueDelayMicros / 1000 && enqueuedAt < oldest) {
        oldest = enqueuedAt;
        due = key;
      }
    }
    return due;
  }

  private wakeAt(due: number, now: number): void {
    if (this.timer !== undefined && this.timerDue <= due) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.dispatch();
    }, Math.max(0, due - now));
  }

  private send(bucket: string, batch: Pending<I, O>[], now: number): void {
    this.inFlight++;
    this.options.onBatch?.({
      name: this.options.name,
      bucket,
      size: batch.length,
      queueDelaysMicros: batch.map((pending) => Math.round((now - pending.enqueuedAt) * 1000)),
    });
    let running: Promise<O[]>;
    try {
      running = this.options.run(batch.map((pending) => pending.item));
    } catch (error) {
      running = Promise.reject(error);
    }
    running
      .then(
        (outputs) => batch.forEach((pending, i) => pending.resolve(outputs[i])),
        (error: unknown) => batch.forEach((pending) => pending.reject(error)),
      )
      .finally(() => {
        this.inFlight--;
        this.dispatch();
      });
  }
}
