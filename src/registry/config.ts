import { z } from 'zod';

const share = z.number().min(0).max(1);

/** Model lifecycle: how stage changes reach running servers, how shadows are bounded, and the automatic rollback rules. */
export const lifecycleConfigSchema = z
  .object({
    /** Every server reads the stages again this often, so a change made by another process (the CLI, another server) takes effect here. */
    refreshSeconds: z.number().positive().default(5),
    shadow: z
      .object({
        /** Shadow runs at once; one more than this is dropped and counted, never queued behind the answers. */
        concurrency: z.number().int().min(1).default(1),
      })
      .strict()
      .prefault({}),
    rollback: z
      .object({
        /** Switch off a canary or shadow that a rule finds worse than production. */
        enabled: z.boolean().default(true),
        /** How often the rules are evaluated. */
        evaluateSeconds: z.number().positive().default(30),
        /** Runs of the candidate (and of production over the same time) before any rule may judge it. */
        minSample: z.number().int().min(1).default(200),
        /** Answered reviews of the candidate's predictions before the override rule may judge it. */
        minReviews: z.number().int().min(1).default(30),
        /** How much worse than production a canary may be, in rate points (0.05: five points), before it is switched off. */
        margins: z
          .object({
            reviewRate: share.default(0.1),
            rejectRate: share.default(0.05),
            errorRate: share.default(0.02),
            overrideRate: share.default(0.1),
            /** The canary's p95 latency over production's. */
            p95LatencyRatio: z.number().min(1).default(1.5),
          })
          .strict()
          .prefault({}),
        /** A shadow whose mean agreement with production falls under this is switched off. */
        shadowAgreementFloor: share.default(0.9),
      })
      .strict()
      .prefault({}),
    /** Promote a canary that has run `promoteAfter` times with no rule against it. Off: people promote. */
    autoPromote: z.boolean().default(false),
    promoteAfter: z.number().int().min(1).default(1000),
  })
  .strict();

export type LifecycleConfig = z.infer<typeof lifecycleConfigSchema>;
