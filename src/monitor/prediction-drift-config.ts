import { z } from 'zod';

/**
 * Prediction drift of classification and detection pipelines (src/core/monitor/prediction-drift.ts):
 * each pipeline's first `referenceImages` predictions against its last `windowImages`.
 */
export const predictionDriftAlertSchema = z
  .object({
    enabled: z.boolean().default(true),
    referenceImages: z.number().int().min(1).default(200),
    windowImages: z.number().int().min(1).default(100),
    /** A feature whose PSI exceeds this has moved (0.25: the conventional "real shift"). */
    psi: z.number().positive().default(0.25),
  })
  .strict()
  .prefault({});

/** New-category emergence: the share of unsure predictions rising over the reference's by more than `minIncrease`. */
export const newCategoriesAlertSchema = z
  .object({
    enabled: z.boolean().default(true),
    minIncrease: z.number().min(0).max(1).default(0.15),
  })
  .strict()
  .prefault({});
