import { z } from 'zod';

export const runtimeConfigSchema = z
  .object({
    /** onnxruntime intra-op threads per session; 0 lets onnxruntime pick. */
    intraOpThreads: z.number().int().min(0).default(2),
    interOpThreads: z.number().int().min(0).default(1),
    /**
     * onnxruntime execution providers, first preferred. The npm package ships the CPU one; 'cuda'
     * and 'tensorrt' need onnxruntime-node's GPU binaries and the NVIDIA libraries installed.
     */
    executionProviders: z.array(z.enum(['cpu', 'cuda', 'tensorrt', 'coreml', 'dml'])).min(1).default(['cpu']),
  })
  .strict();

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
