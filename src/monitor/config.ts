import { z } from 'zod';
import { newCategoriesAlertSchema, predictionDriftAlertSchema } from './prediction-drift-config.js';

const window = (images: number) => z.number().int().min(1).default(images);

/** Monitoring: the reference, drift, outliers, alerts, cost and custom counters. Defaults and reasons: docs/monitoring.md. */
export const monitorConfigSchema = z
  .object({
    reference: z
      .object({
        /** A profile written by `visionops profile`; null builds one from the first production images. */
        file: z.string().nullable().default(null),
        /** Without a file, the first this many images become the reference. */
        images: z.number().int().min(20).default(200),
      })
      .strict()
      .prefault({}),
    drift: z
      .object({
        /** Drift is judged on the last this many images... */
        windowImages: window(100),
        /** ...every this many images. */
        evaluateEvery: window(10),
        /** A drift alert resolves after this many evaluations in a row find no drift. */
        clearAfter: z.number().int().min(1).default(3),
        bins: z.number().int().min(2).default(10),
        psi: z.number().positive().default(0.25),
        ksPValue: z.number().positive().max(1).default(0.001),
        permutations: z.number().int().min(10).default(100),
        mmdZ: z.number().positive().default(6),
        mmdMin: z.number().min(0).default(0.02),
        minImages: z.number().int().min(5).default(30),
      })
      .strict()
      .prefault({}),
    outliers: z
      .object({
        /** Share of reference images whose score exceeds the outlier threshold. */
        referenceShare: z.number().positive().max(0.5).default(0.01),
        neighbours: z.number().int().min(1).default(5),
        clusterRadius: z.number().positive().default(4),
        maxClusters: z.number().int().min(1).default(20),
        growthWindow: window(100),
        minGrowth: z.number().int().min(1).default(5),
        thumbnails: z.number().int().min(0).max(16).default(4),
      })
      .strict()
      .prefault({}),
    rates: z
      .object({
        /** Reject, review and error rates of the last this many events... */
        recent: window(50),
        /** ...against this many before them. */
        baseline: window(500),
        z: z.number().positive().default(4),
        minChange: z.number().min(0).max(1).default(0.15),
      })
      .strict()
      .prefault({}),
    alerts: z
      .object({
        drift: z.object({ enabled: z.boolean().default(true) }).strict().prefault({}),
        outlierRate: z
          .object({ enabled: z.boolean().default(true), window: window(100), threshold: z.number().min(0).max(1).default(0.1) })
          .strict()
          .prefault({}),
        errorRate: z
          .object({ enabled: z.boolean().default(true), window: window(100), threshold: z.number().min(0).max(1).default(0.2) })
          .strict()
          .prefault({}),
        rateShift: z.object({ enabled: z.boolean().default(true) }).strict().prefault({}),
        latency: z
          .object({
            enabled: z.boolean().default(true),
            window: window(100),
            percentile: z.number().min(0.5).max(1).default(0.95),
            thresholdMs: z.number().positive().default(10_000),
          })
          .strict()
          .prefault({}),
        queueDepth: z.object({ enabled: z.boolean().default(true), threshold: z.number().int().min(1).default(16) }).strict().prefault({}),
        /** The oldest image waiting in the job queue is older than this: the workers do not keep up. */
        jobQueueAge: z.object({ enabled: z.boolean().default(true), thresholdSeconds: z.number().positive().default(600) }).strict().prefault({}),
        /** More than `threshold` images were dead-lettered in the last `windowSeconds`. */
        jobDeadLetters: z
          .object({ enabled: z.boolean().default(true), threshold: z.number().int().min(0).default(0), windowSeconds: z.number().positive().default(900) })
          .strict()
          .prefault({}),
        overrideRate: z
          .object({
            enabled: z.boolean().default(true),
            window: window(100),
            threshold: z.number().min(0).max(1).default(0.2),
            minReviews: z.number().int().min(1).default(20),
          })
          .strict()
          .prefault({}),
        predictionDrift: predictionDriftAlertSchema,
        newCategories: newCategoriesAlertSchema,
        /** Each alert transition is POSTed as JSON to every one of these URLs. */
        webhooks: z.array(z.url()).default([]),
        webhookTimeoutMs: z.number().int().positive().default(5000),
        /** Tries of one notification in all: a network failure, a timeout, 408, 429 or 5xx is tried again with backoff. */
        webhookAttempts: z.number().int().min(1).default(3),
      })
      .strict()
      .prefault({}),
    cost: z
      .object({
        /** Price of one CPU-second of inference, in `currency`. */
        cpuSecond: z.number().min(0).default(0.00001),
        /** Price of one GPU-hour, applied to the wall time of model stages on a GPU execution provider. */
        gpuHour: z.number().min(0).default(0),
        currency: z.string().default('USD'),
      })
      .strict()
      .prefault({}),
    /** Counters a deployment defines, incremented through POST /v1/events. */
    events: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a lower-case metric name: letters, digits and _'),
            help: z.string().default('A counter defined in the configuration.'),
          })
          .strict(),
      )
      .default([]),
    gpu: z
      .object({
        /** Read utilisation and memory from nvidia-smi when it exists; no GPU, no metric. */
        enabled: z.boolean().default(true),
        pollSeconds: z.number().positive().default(15),
      })
      .strict()
      .prefault({}),
    /** Seed of the permutation tests: one stream of images always gives one answer. */
    seed: z.number().int().default(1),
  })
  .strict();

export type MonitorConfig = z.infer<typeof monitorConfigSchema>;
