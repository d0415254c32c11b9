import { z } from 'zod';

export const reviewConfigSchema = z
  .object({
    /**
     * Share of accepted predictions also sent to people, drawn at random, so the accuracy of what
     * the machine accepts alone is measured. 2% of 1,000 pages a day gives about 20 audited pages
     * (a hundred or so lines) a day to estimate it from.
     */
    auditRate: z.number().min(0).max(1).default(0.02),
    /** How long a claim lasts before the task returns to the queue; a reviewer answers within it. */
    leaseSeconds: z.number().int().positive().default(600),
  })
  .strict();

export type ReviewConfig = z.infer<typeof reviewConfigSchema>;
