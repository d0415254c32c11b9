import { z } from 'zod';
import { DEFAULT_BACKOFF } from '../core/edge/backoff.js';
import { edgePolicySchema } from '../core/edge/policy.js';

/** The edge agent (`visionops edge`); docs/edge.md has the policy decision table. */
export const edgeConfigSchema = z
  .object({
    /** What runs on the device and what is sent: see POLICY_PLANS in src/core/edge/policy.ts. */
    policy: edgePolicySchema.default('hybrid'),
    outbox: z
      .object({
        /** When either limit is reached, new captures wait in the watched folder (nothing queued is evicted). */
        maxItems: z.number().int().positive().default(1000),
        maxBytes: z.number().int().positive().default(512 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    backoff: z
      .object({
        /** The first retry waits up to this long; each further one doubles it (full jitter)... */
        baseMs: z.number().int().positive().default(DEFAULT_BACKOFF.baseMs),
        /** ...up to this ceiling. Under `device`, a queued capture also waits this long before its first try. */
        maxMs: z.number().int().positive().default(DEFAULT_BACKOFF.maxMs),
      })
      .strict()
      .prefault({}),
    duplicates: z
      .object({
        /** A capture within this many bits of perceptual hash of a recent forwarded one is dropped (the cache's near distance). */
        maxDistance: z.number().int().min(0).max(64).default(4),
        /** How many forwarded captures are remembered. */
        window: z.number().int().positive().default(32),
      })
      .strict()
      .prefault({}),
    /** How often the watched folder is scanned. */
    scanMs: z.number().int().positive().default(1000),
    /** A file modified more recently than this is still being written: it waits for the next scan. */
    settleMs: z.number().int().min(0).default(500),
    /** Longest wait for the cloud's answer to one upload. */
    uploadTimeoutMs: z.number().int().positive().default(60_000),
    /** What the server takes in a regions upload (`POST /v1/predict/regions`), each crop also within `ingest`'s limits. */
    regions: z
      .object({
        /** Crops in one upload: a dense page has a few dozen lines. The agent sends a capture with more as the page. */
        maxCrops: z.number().int().positive().default(256),
        /** Pixels of one crop: a line across a 4032 px wide frame is about 4000 x 150. */
        maxCropPixels: z.number().int().positive().default(4_000_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type EdgeConfig = z.infer<typeof edgeConfigSchema>;
