import { z } from 'zod';

/** Limits enforced before a single pixel is decoded, and what metadata is kept. */
export const ingestConfigSchema = z
  .object({
    maxBytes: z.number().int().positive().default(25 * 1024 * 1024),
    maxPixels: z.number().int().positive().default(40_000_000),
    maxFrames: z.number().int().positive().default(1000),
    keepGps: z.boolean().default(false),
  })
  .strict();

export type IngestConfig = z.infer<typeof ingestConfigSchema>;
