import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { isVisionopsError, VisionopsError } from '../core/errors.js';
import type { QueueConfig } from './config.js';
import { itemId, type ItemData, type ItemSource } from './items.js';

/** The BullMQ queue every image of every job goes through. */
export const QUEUE_NAME = 'images';

export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

/** What `GET /v1/jobs/:id` answers. */
export interface JobStatus {
  id: string;
  state: JobState;
  pipeline: string;
  createdAt: string;
  finishedAt: string | null;
  /** Distinct images in the job (an image submitted twice is one). */
  total: number;
  /** Images recorded. */
  done: number;
  /** Images dead-lettered: every try failed, or the image itself was refused; each with its error in `errors`. */
  failed: number;
  /** The record ids, in the order the images were submitted, once the job has finished; empty before. */
  records: string[];
  errors: { name: string | null; code: string; message: string }[];
}

/** One image of a submission: its bytes' SHA-256, where the worker finds it, and its name. */
export interface SubmittedImage {
  sha256: string;
  source: ItemSource;
  name: string | null;
}

export interface Submission {
  pipeline: { name: string; version: string };
  images: SubmittedImage[];
  /** POSTed the job's status when it finishes. */
  webhook?: string | null;
}

/** The queue's figures at one moment, for metrics and alerts. */
export interface QueueFigures {
  waiting: number;
  active: number;
  /** Waiting for a retry (backoff). */
  delayed: number;
  /** Dead-lettered items still kept. */
  deadLettered: number;
  /** Images recorded since the queue was made, by every worker. */
  processedTotal: number;
  /** Age of the oldest image waiting, in seconds; 0 when none waits. */
  oldestWaitingSeconds: number;
}

export interface JobQueueOptions {
  config: QueueConfig;
}

/**
 * Jobs over Redis: a job's state in a few keys of its own (its images in order, their records,
 * their errors), and one BullMQ item per image whose id is derived from the image, the pipeline
 * version and the job (see `itemId`). Bookkeeping is idempotent: an item recorded twice (a worker
 * killed after saving its record) counts once, and the job finishes exactly once.
 */
export class JobQueue {
  readonly queue: Queue<ItemData>;
  readonly redis: Redis;
  private readonly prefix: string;

  constructor(readonly config: QueueConfig) {
    const url = requireUrl(config);
    this.prefix = config.redis.prefix;
    this.queue = new Queue<ItemData>(QUEUE_NAME, { connection: { url, maxRetriesPerRequest: 1 }, prefix: this.prefix });
    this.queue.on('error', () => {});
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
    this.redis.on('error', () => {});
    this.redis.defineCommand('markDone', { numberOfKeys: 4, lua: MARK_DONE });
    this.redis.defineCommand('markFailed', { numberOfKeys: 4, lua: MARK_FAILED });
  }

  /** BullMQ options every item is added with: its retries, and how long a dead letter is kept. */
  private get itemOptions(): JobsOptions {
    return {
      attempts: this.config.attempts,
      backoff: { type: 'exponential', delay: this.config.backoffMs },
      removeOnComplete: true,
      removeOnFail: { age: this.config.keepFinishedSeconds },
    };
  }

  /** Refuses with QUEUE_FULL (and when to retry) when `adding` more images would pass `queue.maxWaiting`. */
  async admit(adding: number): Promise<void> {
    const waiting = await this.waitingCount();
    if (waiting + adding <= this.config.maxWaiting) return;
    throw new VisionopsError(
      'QUEUE_FULL',
      `The job queue holds ${waiting} images waiting, and ${adding} more would pass its bound of ${this.config.maxWaiting} (queue.maxWaiting): retry after ${this.config.retryAfterSeconds} s, while the workers catch up, or add workers.`,
      { waiting, adding, maxWaiting: this.config.maxWaiting, retryAfterSeconds: this.config.retryAfterSeconds },
    );
  }

  /** Adds a job; its images are queued at once and its id returned. Throws QUEUE_FULL past the bound. */
  async submit({ pipeline, images, webhook = null }: Submission): Promise<string> {
    if (images.length === 0) throw new VisionopsError('INVALID_REQUEST', 'A job needs at least one image: upload fields "image" or give "paths".');
    if (images.length > this.config.maxImagesPerJob) {
      throw new VisionopsError('INVALID_REQUEST', `A job holds at most ${this.config.maxImagesPerJob} images (queue.maxImagesPerJob): split these ${images.length} into several jobs.`);
    }
    const id = randomUUID();
    const items = new Map<string, ItemData>();
    for (const image of images) {
      const key = itemId(id, image.sha256, pipeline.name, pipeline.version);
      if (!items.has(key)) items.set(key, { job: id, pipeline: pipeline.name, version: pipeline.version, sha256: image.sha256, source: image.source, name: image.name });
    }
    await this.admit(items.size);
    await this.reach(async () => {
      const keys = this.jobKeys(id);
      await this.redis
        .multi()
        .hset(keys.job, { pipeline: pipeline.name, version: pipeline.version, total: items.size, createdAt: new Date().toISOString(), webhook: webhook ?? '' })
        .rpush(keys.items, ...items.keys())
        // A job whose items never all finish (its submission cut short) does not stay forever; finishing renews this.
        .expire(keys.job, this.config.keepFinishedSeconds)
        .expire(keys.items, this.config.keepFinishedSeconds)
        .exec();
      await this.queue.addBulk([...items].map(([jobId, data]) => ({ name: 'image', data, opts: { ...this.itemOptions, jobId } })));
    });
    return id;
  }

  async status(id: string): Promise<JobStatus> {
    const keys = this.jobKeys(id);
    const [job, order, records, failures] = await this.reach(async () => {
      const replies = await this.redis.multi().hgetall(keys.job).lrange(keys.items, 0, -1).hgetall(keys.records).hgetall(keys.failed).exec();
      return (replies ?? []).map(([error, value]) => {
        if (error !== null) throw error;
        return value;
      }) as [Record<string, string>, string[], Record<string, string>, Record<string, string>];
    });
    if (job === undefined || Object.keys(job).length === 0) {
      throw new VisionopsError('JOB_NOT_FOUND', `There is no job ${id}: check the id; finished jobs are kept queue.keepFinishedSeconds.`, { id });
    }
    const done = Object.keys(records).length;
    const failed = Object.keys(failures).length;
    const finished = job.finishedAt !== undefined;
    return {
      id,
      state: finished ? (failed > 0 ? 'failed' : 'completed') : job.startedAt !== undefined ? 'active' : 'waiting',
      pipeline: job.pipeline,
      createdAt: job.createdAt,
      finishedAt: job.finishedAt ?? null,
      total: Number(job.total),
      done,
      failed,
      records: finished ? order.flatMap((item) => (records[item] === undefined ? [] : [records[item]])) : [],
      errors: order.flatMap((item) => (failures[item] === undefined ? [] : [JSON.parse(failures[item]) as JobStatus['errors'][number]])),
    };
  }

  /** The job's webhook, or null. */
  async webhookOf(id: string): Promise<string | null> {
    const url = await this.reach(() => this.redis.hget(this.jobKeys(id).job, 'webhook'));
    return url === null || url === '' ? null : url;
  }

  /** Marks the job begun (its first image taken). */
  async started(job: string): Promise<void> {
    await this.reach(() => this.redis.hsetnx(this.jobKeys(job).job, 'startedAt', new Date().toISOString()));
  }

  /** The item's record, kept once however often it is told; true when this call finished the job. */
  async recorded(item: ItemData, id: string, record: string): Promise<boolean> {
    const keys = this.jobKeys(item.job);
    const finished = await this.reach(() =>
      (this.redis as unknown as RedisScripts).markDone(keys.job, keys.records, keys.failed, this.counterKey('processed'), id, record, new Date().toISOString(), this.config.keepFinishedSeconds),
    );
    return finished === 1;
  }

  /** The item dead-lettered with its error (the first one told is kept), unless it was recorded; true when this call finished the job. */
  async deadLettered(item: ItemData, id: string, error: { code: string; message: string }): Promise<boolean> {
    const keys = this.jobKeys(item.job);
    const entry = JSON.stringify({ name: item.name, code: error.code, message: error.message });
    const finished = await this.reach(() =>
      (this.redis as unknown as RedisScripts).markFailed(keys.job, keys.records, keys.failed, this.counterKey('deadLettered'), id, entry, new Date().toISOString(), this.config.keepFinishedSeconds),
    );
    return finished === 1;
  }

  async figures(now = Date.now()): Promise<QueueFigures> {
    return this.reach(async () => {
      const [counts, oldest, processed] = await Promise.all([
        this.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed'),
        this.queue.getJobs(['wait'], 0, 0, true),
        this.redis.get(this.counterKey('processed')),
      ]);
      return {
        waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        deadLettered: counts.failed ?? 0,
        processedTotal: Number(processed ?? 0),
        oldestWaitingSeconds: oldest[0] === undefined ? 0 : Math.max(0, (now - oldest[0].timestamp) / 1000),
      };
    });
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }

  private async waitingCount(): Promise<number> {
    return this.reach(async () => {
      const counts = await this.queue.getJobCounts('wait', 'prioritized', 'delayed');
      return Object.values(counts).reduce((sum, count) => sum + count, 0);
    });
  }

  private jobKeys(id: string) {
    const job = `${this.prefix}:jobs:{${id}}`;
    return { job, items: `${job}:items`, records: `${job}:records`, failed: `${job}:failed` };
  }

  private counterKey(name: string): string {
    return `${this.prefix}:jobs:${name}`;
  }

  /** Redis errors, and calls slower than `queue.redis.timeoutMs` (BullMQ waits for a Redis that is away), become QUEUE_UNAVAILABLE, which a client may retry. */
  private async reach<T>(work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.config.redis.timeoutMs;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([work(), late]);
    } catch (error) {
      if (isVisionopsError(error)) throw error;
      throw new VisionopsError('QUEUE_UNAVAILABLE', `The job queue's Redis cannot be reached (${(error as Error).message}): check queue.redis.url and that Redis runs, then retry.`, { retryAfterSeconds: 5 }, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The queue `config` names, or QUEUE_NOT_CONFIGURED. */
export function requireUrl(config: QueueConfig): string {
  if (config.redis.url === null) {
    throw new VisionopsError('QUEUE_NOT_CONFIGURED', 'Jobs need a Redis: set queue.redis.url (for example redis://127.0.0.1:6379) on the API processes and the workers, then run `visionops worker`.');
  }
  return config.redis.url;
}

interface RedisScripts {
  markDone(...args: (string | number)[]): Promise<number>;
  markFailed(...args: (string | number)[]): Promise<number>;
}

/**
 * Finishes the job when every item has its record or its error: once (HSETNX), and the job's keys
 * then expire after ARGV[4] seconds. Returns 1 to the one caller that finished it.
 */
const FINISH = `
local function finish()
  local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '-1')
  if redis.call('HLEN', KEYS[2]) + redis.call('HLEN', KEYS[3]) < total then return 0 end
  if redis.call('HSETNX', KEYS[1], 'finishedAt', ARGV[3]) == 0 then return 0 end
  for _, key in ipairs({KEYS[1], KEYS[1] .. ':items', KEYS[2], KEYS[3]}) do redis.call('EXPIRE', key, ARGV[4]) end
  return 1
end
`;

/** KEYS: job, records, failed, processed counter. ARGV: item, record id, now, keep seconds. */
const MARK_DONE = `${FINISH}
redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) == 1 then redis.call('INCR', KEYS[4]) end
return finish()
`;

/** KEYS: job, records, failed, dead-letter counter. ARGV: item, error JSON, now, keep seconds. */
const MARK_FAILED = `${FINISH}
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[3])
if redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[2]) == 1 then redis.call('INCR', KEYS[4]) end
return finish()
`;
