import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { isVisionopsError, VisionopsError, type ErrorCode } from '../core/errors.js';
import type { PredictionServices } from '../pipeline/service.js';
import type { BlobStore } from '../store/store.js';
import { sha256Of } from '../pipeline/idempotency.js';
import type { QueueConfig } from './config.js';
import { itemIdempotencyKey, type ItemData } from './items.js';
import { JobQueue, QUEUE_NAME, requireUrl } from './jobs.js';
import { readSharedFile } from './paths.js';
import { notifyFinished, type JobLog } from './webhook.js';

/** Errors of the image or the request itself: trying again gives the same answer, so the item is dead-lettered at once. */
const FINAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'EMPTY_BODY',
  'IMAGE_TOO_LARGE',
  'TOO_MANY_FRAMES',
  'UNSUPPORTED_FORMAT',
  'CORRUPT_IMAGE',
  'INVALID_REQUEST',
  'IDEMPOTENCY_KEY_REUSED',
  'UNKNOWN_PIPELINE',
]);

export interface WorkerDeps {
  config: QueueConfig;
  services: PredictionServices;
  blobs: BlobStore;
  /** `ingest.maxBytes`: a shared file over it is refused before it is read. */
  maxBytes: number;
  /** Images held at once; `config.worker.concurrency` by default. */
  concurrency?: number;
  log: JobLog;
}

export interface QueueWorker {
  /**
   * Takes no new image, finishes those it holds, and returns to the queue those still running
   * after `config.worker.shutdownSeconds` (their predictions stopped, nothing recorded), then
   * closes its connections.
   */
  close(): Promise<void>;
}

/**
 * A worker: takes images from the queue, `concurrency` at a time, and records each under the
 * idempotency key of its item, so that an item delivered again (its worker killed mid-image, or a
 * lock lost) finds its record instead of making a second one. A failing image is retried with
 * exponential backoff up to `attempts` times, then dead-lettered with its error; an image that is
 * itself refused (corrupt, unsupported, too large) is dead-lettered at once.
 */
export async function startWorker({ config, services, blobs, maxBytes, concurrency = config.worker.concurrency, log }: WorkerDeps): Promise<QueueWorker> {
  const jobs = new JobQueue(config);
  const finished = (job: string) => notifyFinished(jobs, job, { timeoutMs: config.webhookTimeoutMs, attempts: config.webhookAttempts }, log);

  async function load(item: ItemData): Promise<Uint8Array> {
    const bytes = 'blob' in item.source ? await blobs.get(item.source.blob) : await readSharedFile(config.pathsRoot, item.source.path, maxBytes);
    if (bytes === null) throw new VisionopsError('INVALID_REQUEST', `The uploaded image ${item.name ?? item.sha256} is no longer in the blob store: give the workers the same data.dir as the API.`);
    if (sha256Of(bytes) !== item.sha256) throw new VisionopsError('INVALID_REQUEST', `The file ${item.name ?? ''} changed after the job was submitted: submit it again.`);
    return bytes;
  }

  async function deadLetter(job: Job<ItemData>, error: unknown): Promise<void> {
    const coded = isVisionopsError(error) ? { code: error.code, message: error.message } : { code: 'INTERNAL', message: (error as Error).message };
    if (await jobs.deadLettered(job.data, job.id as string, coded)) await finished(job.data.job);
  }

  async function processItem(job: Job<ItemData>, token: string | undefined, signal: AbortSignal | undefined): Promise<string> {
    const item = job.data;
    try {
      await jobs.started(item.job);
      const bytes = await load(item);
      const service = services.get(item.pipeline);
      const source = { channel: 'job', job: item.job, file: item.name };
      const { record, replayed } = await service.predictOnce(bytes, source, itemIdempotencyKey(job.id as string), {}, signal);
      if (replayed) log.info({ item: job.id, record: record.id }, 'image recorded by an earlier delivery: its record is kept, not made again');
      if (await jobs.recorded(item, job.id as string, record.id)) await finished(item.job);
      return record.id;
    } catch (error) {
      if (signal?.aborted === true && isVisionopsError(error) && error.code === 'CANCELLED') {
        // Shutting down: the item goes back to the queue for another worker, without using a try.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      const final = isVisionopsError(error) && FINAL.has(error.code);
      if (final || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await deadLetter(job, error);
        throw final ? new UnrecoverableError((error as Error).message) : error;
      }
      log.warn({ item: job.id, attempt: job.attemptsMade + 1, err: error }, 'image failed; it will be retried');
      throw error;
    }
  }

  const worker = new Worker<ItemData, string>(QUEUE_NAME, processItem, {
    connection: { url: requireUrl(config), maxRetriesPerRequest: null },
    prefix: config.redis.prefix,
    concurrency,
    lockDuration: config.worker.lockSeconds * 1000,
    stalledInterval: config.worker.stalledCheckSeconds * 1000,
    maxStalledCount: config.worker.maxStalls,
    autorun: false,
  });
  worker.on('error', (error) => log.warn({ err: error }, 'job worker error'));
  worker.on('stalled', (item) => log.warn({ item }, 'image taken back from a worker that stopped renewing its lock: it goes back to the queue'));
  // An item BullMQ failed for good without the processor dead-lettering it (it stalled too often,
  // or its worker died between the two) is dead-lettered here; the first error told is kept.
  worker.on('failed', (job, error) => {
    if (job === undefined) return;
    const dead = async () => {
      if (!(await job.isFailed())) return;
      const stalled = /stalled/i.test(error.message);
      await deadLetter(job, stalled ? new VisionopsError('INTERNAL', `The image stalled more than queue.worker.maxStalls times: its workers stopped while reading it (${error.message}).`) : error);
    };
    dead().catch((failure: unknown) => log.warn({ err: failure, item: job.id }, 'dead letter not kept'));
  });
  void worker.run();
  await worker.waitUntilReady();

  return {
    async close() {
      const returnHeld = setTimeout(() => worker.cancelAllJobs('shutdown'), config.worker.shutdownSeconds * 1000);
      try {
        await worker.close();
      } finally {
        clearTimeout(returnHeld);
        await jobs.close();
      }
    },
  };
}
