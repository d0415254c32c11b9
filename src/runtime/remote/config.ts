import { z } from 'zod';

/** One model stage served by remote Open Inference Protocol v2 servers instead of in-process. */
export const remoteBackendSchema = z
  .object({
    /** Base URLs of the servers (`http://10.0.0.7:8080`): other visionops processes, Triton or any OIP v2 server holding the model. */
    endpoints: z.array(z.url({ protocol: /^https?$/ })).min(1),
    /** The model's name on the servers; null: the local manifest's id (what a visionops server serves it as). */
    model: z.string().min(1).nullable().default(null),
    /** The version to ask for; null: the servers' default (the URL without /versions/). */
    version: z.string().min(1).nullable().default(null),
    /** Requests in flight per endpoint at most (a visionops server runs runtime.workers at once, 2 by default); more wait here. */
    concurrency: z.number().int().positive().default(2),
    /** One attempt on one endpoint gives up after this long, and the next endpoint is tried. */
    timeoutMs: z.number().int().positive().default(5000),
    /** Attempts per inference, each on a different endpoint while untried ones are up (inference is idempotent). */
    attempts: z.number().int().positive().default(3),
    healthCheck: z
      .object({
        /** Each endpoint's `GET /v2/models/{model}/ready` is asked this often. */
        intervalMs: z.number().int().positive().default(1000),
        timeoutMs: z.number().int().positive().default(1000),
      })
      .strict()
      .prefault({}),
    breaker: z
      .object({
        /** Consecutive failed inferences that open an endpoint's circuit: it gets no traffic... */
        failures: z.number().int().positive().default(3),
        /** ...for this long, then one trial request (half-open) closes it again or reopens it. */
        openMs: z.number().int().positive().default(5000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** Which model stages of the document pipeline run remotely, by role; a role not listed runs in-process. */
export const remoteBackendsSchema = z
  .object({
    detection: remoteBackendSchema.optional(),
    orientation: remoteBackendSchema.optional(),
    recognition: remoteBackendSchema.optional(),
  })
  .strict()
  .prefault({});

/** The model stages of the document pipeline that can run remotely. */
export const REMOTE_ROLES = ['detection', 'orientation', 'recognition'] as const;
export type RemoteRole = (typeof REMOTE_ROLES)[number];

export type RemoteBackendConfig = z.infer<typeof remoteBackendSchema>;
export type RemoteBackendsConfig = z.infer<typeof remoteBackendsSchema>;
