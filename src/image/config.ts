import { z } from 'zod';

/** Limits enforced before a single pixel is decoded, and what metadata is kept. */
export const ingestConfigSchema = z
  .object({
    maxBytes: z.number().int().positive().default(25 * 1024 * 1024),
    maxPixels: z.number().int().positive().default(40_000_000),
    maxFrames: z.number().int().positive().default(1000),
    keepGps: z.boolean().default(false),
    /**
     * Pixels decoding at once across all requests, each image counted from its header before it
     * is decoded (docs/operations.md gives the memory each pixel costs).
     */
    inflightPixels: z.number().int().positive().default(80_000_000),
    /** How long an image waits for room in `inflightPixels` before it is refused with OVERLOADED. */
    inflightWaitMs: z.number().int().nonnegative().max(60_000).default(2000),
  })
  .strict();

export type IngestConfig = z.infer<typeof ingestConfigSchema>;
