import { z } from 'zod';
import { qualityConfigSchema } from '../core/quality/config.js';
import { ingestConfigSchema } from '../image/config.js';
import { cacheConfigSchema } from '../pipeline/cache.js';
import { monitorConfigSchema } from '../monitor/config.js';
import { pipelineConfigSchema, pipelinesConfigSchema } from '../pipeline/config.js';
import { reviewConfigSchema } from '../review/config.js';
import { runtimeConfigSchema } from '../runtime/config.js';
import { authConfigSchema } from '../server/auth-config.js';

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
      })
      .strict()
      .prefault({}),
    data: z
      .object({
        /** SQLite database and content-addressed blobs live here. */
        dir: z.string().default('./data'),
        /** Where prediction records go: the embedded SQLite file under `dir`, or a PostgreSQL database several processes share. */
        store: z.enum(['sqlite', 'postgres']).default('sqlite'),
        postgres: z
          .object({
            url: z.string().default('postgres://postgres@127.0.0.1:5432/visionops'),
            poolSize: z.number().int().positive().default(10),
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
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
