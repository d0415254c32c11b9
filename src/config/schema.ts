import { z } from 'zod';
import { qualityConfigSchema } from '../core/quality/config.js';
import { ingestConfigSchema } from '../image/config.js';
import { cacheConfigSchema } from '../pipeline/cache.js';
import { edgeConfigSchema } from '../edge/config.js';
import { monitorConfigSchema } from '../monitor/config.js';
import { pipelineConfigSchema, pipelinesConfigSchema } from '../pipeline/config.js';
import { lifecycleConfigSchema } from '../registry/config.js';
import { queueConfigSchema } from '../queue/config.js';
import { reviewConfigSchema } from '../review/config.js';
import { runtimeConfigSchema } from '../runtime/config.js';
import { allowedHostsSchema, rateLimitConfigSchema } from '../server/access-config.js';
import { authConfigSchema } from '../server/auth-config.js';
import { admissionConfigSchema, pressureConfigSchema, timeoutsConfigSchema } from '../server/overload-config.js';

/**
 * The whole configuration of visionops. Every default lives in the module that owns the setting
 * and is visible here through `visionops config`, which prints the effective values.
 */
export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** pino level of the server's request log; `silent` turns it off. */
        logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Names clients may address the server by, besides `host`, localhost, 127.0.0.1 and [::1]; any other Host is refused. */
        allowedHosts: allowedHostsSchema,
        rateLimit: rateLimitConfigSchema.prefault({}),
        admission: admissionConfigSchema.prefault({}),
        timeouts: timeoutsConfigSchema.prefault({}),
        pressure: pressureConfigSchema.prefault({}),
        /** On SIGTERM or SIGINT the server stops accepting, and predictions still running after this long are abandoned; the process exits within it. */
        shutdownSeconds: z.number().positive().default(10),
      })
      .strict()
      .prefault({}),
    data: z
      .object({
        /** The SQLite database (with `store: sqlite`) and the content-addressed blobs live here. */
        dir: z.string().default('./data'),
        /** Where predictions, review tasks and monitor state go: the embedded SQLite file under `dir`, or a PostgreSQL database several processes share. */
        store: z.enum(['sqlite', 'postgres']).default('sqlite'),
        postgres: z
          .object({
            url: z.string().default('postgres://postgres@127.0.0.1:5432/visionops'),
            poolSize: z.number().int().positive().default(10),
            /** Longest wait for a connection, new or from the pool, before STORE_UNAVAILABLE. */
            connectTimeoutMs: z.number().int().positive().default(5000),
            /** The server cancels a statement running longer (PostgreSQL `statement_timeout`); the client gives up a second later. */
            statementTimeoutMs: z.number().int().positive().default(30_000),
            /** The server ends a session left idle inside a transaction this long (`idle_in_transaction_session_timeout`). */
            idleInTransactionTimeoutMs: z.number().int().positive().default(60_000),
            /** TCP keepalive starts probing an idle connection after this long, so a silent server is noticed. */
            keepAliveDelayMs: z.number().int().positive().default(10_000),
            /** `/readyz` and other pings answer within this long, STORE_UNAVAILABLE if the database does not. */
            pingTimeoutMs: z.number().int().positive().default(1000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    ingest: ingestConfigSchema.prefault({}),
    quality: qualityConfigSchema.prefault({}),
    runtime: runtimeConfigSchema.prefault({}),
    pipeline: pipelineConfigSchema.prefault({}),
    pipelines: pipelinesConfigSchema,
    cache: cacheConfigSchema.prefault({}),
    monitor: monitorConfigSchema.prefault({}),
    review: reviewConfigSchema.prefault({}),
    auth: authConfigSchema.prefault({}),
    edge: edgeConfigSchema.prefault({}),
    lifecycle: lifecycleConfigSchema.prefault({}),
    queue: queueConfigSchema.prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
