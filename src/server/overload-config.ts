import { z } from 'zod';

/**
 * How many predictions the server takes on at once, and how long it waits for a client. The
 * defaults are measured on the reference machine (2 cores): see docs/operations.md, "Overload".
 */
export const admissionConfigSchema = z
  .object({
    /** Predictions running at once; more only share the same cores and each takes longer. */
    maxInFlight: z.number().int().positive().default(1),
    /** Predictions admitted to wait for a running one to finish; beyond them a prediction is refused with 503 OVERLOADED. */
    maxQueued: z.number().int().min(0).default(1),
  })
  .strict();

export const timeoutsConfigSchema = z
  .object({
    /** A request's headers and body must have arrived this long after it began, or it is answered 408 and its connection closed. */
    requestSeconds: z.number().positive().default(30),
    /** A request's headers must have arrived this long after it began (at most `requestSeconds`). */
    headersSeconds: z.number().positive().default(10),
    /** A connection with no bytes moving either way for this long is closed, whatever it was doing. */
    idleSeconds: z.number().positive().default(60),
    /** A kept-alive connection waits this long for its next request. */
    keepAliveSeconds: z.number().positive().default(5),
  })
  .strict()
  .refine((timeouts) => timeouts.headersSeconds <= timeouts.requestSeconds, {
    message: 'server.timeouts.headersSeconds must not exceed server.timeouts.requestSeconds',
    path: ['headersSeconds'],
  });

export type AdmissionConfig = z.infer<typeof admissionConfigSchema>;
export type TimeoutsConfig = z.infer<typeof timeoutsConfigSchema>;

export const pressureConfigSchema = z
  .object({
    /** Mean event-loop delay, sampled each second, above which requests are refused with 503 OVERLOADED; 0 turns the check off. */
    maxEventLoopDelayMs: z.number().min(0).default(1000),
    /** V8 heap in use above which requests are refused; 0 turns the check off. */
    maxHeapUsedBytes: z.number().int().min(0).default(0),
    /** Resident memory above which requests are refused; 0 turns the check off. */
    maxRssBytes: z.number().int().min(0).default(0),
    /** The Retry-After of those refusals. */
    retryAfterSeconds: z.number().int().positive().default(2),
  })
  .strict();

export type PressureConfig = z.infer<typeof pressureConfigSchema>;
