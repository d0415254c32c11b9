import { z } from 'zod';
import { remoteBackendsSchema } from './remote/config.js';

/** Triton's dynamic batcher settings for one model. */
const batchingSchema = (maxBatchSize: number, maxQueueDelayMicros: number) =>
  z
    .object({
      /** Examples stacked into one run at most; 1 turns batching off. */
      maxBatchSize: z.number().int().positive().default(maxBatchSize),
      /** How long a request may wait for others to share its run, in microseconds. */
      maxQueueDelayMicros: z.number().int().min(0).default(maxQueueDelayMicros),
    })
    .strict()
    .prefault({});

export const runtimeConfigSchema = z
  .object({
    /**
     * onnxruntime intra-op threads per session; 0 lets onnxruntime pick. One per session with
     * one worker per core measured fastest on 2 cores (docs/performance.md).
     */
    intraOpThreads: z.number().int().min(0).default(1),
    interOpThreads: z.number().int().min(0).default(1),
    /**
     * Inference worker threads, each holding every model; 0 runs the models on the main thread,
     * where onnxruntime-node blocks everything else while it computes.
     */
    workers: z.number().int().min(0).default(2),
    /**
     * Where the quality gate's per-pixel passes run: 'auto' in WebAssembly with SIMD where the
     * runtime has it, else in JavaScript; 'wasm' or 'javascript' to insist. Both give the same
     * report (docs/quality-gate.md); WebAssembly measured about 3x faster (docs/performance.md).
     */
    qualityKernels: z.enum(['auto', 'wasm', 'javascript']).default('auto'),
    /** libvips threads per image decode (sharp.concurrency); 0 leaves sharp's default (one per core). */
    decodeThreads: z.number().int().min(0).default(1),
    /**
     * onnxruntime execution providers, first preferred. The npm package ships the CPU one; 'cuda'
     * and 'tensorrt' need onnxruntime-node's GPU binaries and the NVIDIA libraries installed.
     */
    executionProviders: z.array(z.enum(['cpu', 'cuda', 'tensorrt', 'coreml', 'dml'])).min(1).default(['cpu']),
    /**
     * Dynamic batching per model role; requests of concurrent pages share batches. Off by default:
     * on these models' CPU kernels a batch of 8 lines costs the recogniser more per line than 8
     * runs of one, and end to end batching made 4 pages at a time 17-27% slower on 2 cores
     * (docs/performance.md). With a GPU execution provider, turn it on (recognition 16 lines, 2000
     * microseconds, for a start).
     */
    batching: z
      .object({
        detection: batchingSchema(1, 0),
        orientation: batchingSchema(1, 0),
        recognition: batchingSchema(1, 0),
      })
      .strict()
      .prefault({}),
    /** Model stages run on remote Open Inference Protocol v2 servers, by role (docs/inference-protocol.md); none by default. */
    remote: remoteBackendsSchema,
  })
  .strict();

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
export type BatchingConfig = RuntimeConfig['batching']['recognition'];
