import { z } from 'zod';

/**
 * Jobs: many images submitted at once (`POST /v1/jobs`, `visionops run --queue`), one queue item
 * per image in Redis (BullMQ), read by `visionops worker` processes anywhere that reaches the same
 * Redis, the same `data.*` store and the same files. Defaults and reasons: docs/scaling.md.
 */
export const queueConfigSchema = z
  .object({
    redis: z
      .object({
        /** The Redis every API process and worker shares (`redis://127.0.0.1:6379`); null: no queue, and jobs are refused with QUEUE_NOT_CONFIGURED. */
        url: z.string().nullable().default(null),
        /** Prefix of every key the queue writes: several deployments (or test runs) can share one Redis. */
        prefix: z.string().regex(/^[\w.-]+$/, 'letters, digits, _, . and -').default('visionops'),
        /** A call to Redis (submitting, reading a job) that takes longer fails with QUEUE_UNAVAILABLE, so a Redis that is away does not hold requests. */
        timeoutMs: z.number().int().positive().default(3000),
      })
      .strict()
      .prefault({}),
    /** Images waiting in the queue, across all jobs, beyond which new jobs are refused with 503 QUEUE_FULL and Retry-After. */
    maxWaiting: z.number().int().min(1).default(10_000),
    /** Images in one job, at most. */
    maxImagesPerJob: z.number().int().min(1).default(1000),
    /** What a refused job is told to wait before it asks again (Retry-After). */
    retryAfterSeconds: z.number().int().min(1).default(30),
    /** Where `{"paths": [...]}` are read from: a folder every API process and worker sees at the same place. Null refuses paths (uploads only). */
    pathsRoot: z.string().nullable().default(null),
    /** Tries of one image before it is dead-lettered (failed, with its error); errors of the image itself (unsupported, corrupt, too large) are not retried. */
    attempts: z.number().int().min(1).default(3),
    /** The first retry waits this long, each next one twice as long. */
    backoffMs: z.number().int().min(0).default(1000),
    /** How long a job's state (and its record ids) is kept in Redis after it finishes; the records themselves stay in the store. */
    keepFinishedSeconds: z.number().int().min(60).default(7 * 24 * 3600),
    /** Each finished job is POSTed as JSON to its own `webhook`, waiting at most this long. */
    webhookTimeoutMs: z.number().int().positive().default(5000),
    /** Tries of one job's notification in all: a network failure, a timeout, 408, 429 or 5xx is tried again with backoff. */
    webhookAttempts: z.number().int().min(1).default(3),
    /** How often an API process reads the queue's depth, rate and oldest item for its metrics and alerts. */
    watchSeconds: z.number().positive().default(5),
    worker: z
      .object({
        /** Images one worker process holds at once (`visionops worker --concurrency N`). */
        concurrency: z.number().int().min(1).default(2),
        /** A worker renews its hold on an image every half of this; an image whose worker stopped renewing (killed) goes back to the queue after it. */
        lockSeconds: z.number().positive().default(30),
        /** How often workers look for images whose worker stopped renewing. */
        stalledCheckSeconds: z.number().positive().default(30),
        /** Times an image may be taken back from a dead worker before it is dead-lettered, so an image that kills its worker cannot kill them all. */
        maxStalls: z.number().int().min(1).default(3),
        /** On SIGTERM a worker takes no new image and finishes those it holds; after this long it returns them to the queue and exits. */
        shutdownSeconds: z.number().positive().default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type QueueConfig = z.infer<typeof queueConfigSchema>;
