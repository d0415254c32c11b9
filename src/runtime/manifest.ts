import { z } from 'zod';
import { preprocessSpecSchema, type PreprocessSpec } from '../core/preprocess/spec.js';

/** One input or output of a model graph; a dimension is a number when fixed, a name when dynamic. */
export interface TensorDescription {
  name: string;
  shape: (number | string)[];
}

/** How a model's raw output becomes a result, and the settings that step needs. */
export type PostprocessSpec =
  | { kind: 'db'; threshold: number; boxThreshold: number; unclipRatio: number; maxCandidates: number; scoreMode?: 'fast' | 'slow' }
  | { kind: 'ctc'; spaceBoost?: number; asciiForms?: boolean }
  | { kind: 'classification'; threshold?: number }
  /** A user's detector (src/pipeline/own): candidates scoring at or under `scoreThreshold` dropped, then class-aware NMS at `iouThreshold`. */
  | { kind: 'detection'; scoreThreshold: number; iouThreshold: number };

/**
 * Everything needed to run a model and to say afterwards which model ran: the weights (and their
 * SHA-256, checked at load), the graph's inputs and outputs, the exact preprocessing, the
 * postprocessing, the labels (class names, or a CTC alphabet with the blank first) and the lab
 * metrics it was released with.
 */
export interface ModelManifest {
  id: string;
  version: string;
  /** Where the ONNX file lives: a filesystem path for onnxruntime-node, a URL for the web. */
  path: string;
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
  inputs: TensorDescription[];
  outputs: TensorDescription[];
  preprocess: PreprocessSpec;
  postprocess: PostprocessSpec;
  labels?: string[];
  metrics?: Record<string, number>;
}

const tensorDescriptionSchema = z.object({ name: z.string().min(1), shape: z.array(z.union([z.number().int(), z.string()])) }).strict();
const probability = z.number().min(0).max(1);

/** Validates a manifest where it enters (a registry entry, a file, an API request). */
export const modelManifestSchema: z.ZodType<ModelManifest> = z
  .object({
    id: z.string().min(1),
    version: z.string().min(1),
    path: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 of the model file (sha256sum prints it)'),
    inputs: z.array(tensorDescriptionSchema).min(1),
    outputs: z.array(tensorDescriptionSchema).min(1),
    preprocess: preprocessSpecSchema,
    postprocess: z.discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('db'),
          threshold: probability,
          boxThreshold: probability,
          unclipRatio: z.number().positive(),
          maxCandidates: z.number().int().positive(),
          scoreMode: z.enum(['fast', 'slow']).optional(),
        })
        .strict(),
      z.object({ kind: z.literal('ctc'), spaceBoost: z.number().min(1).optional(), asciiForms: z.boolean().optional() }).strict(),
      z.object({ kind: z.literal('classification'), threshold: probability.optional() }).strict(),
      z.object({ kind: z.literal('detection'), scoreThreshold: probability, iouThreshold: probability }).strict(),
    ]),
    labels: z.array(z.string()).optional(),
    metrics: z.record(z.string(), z.number()).optional(),
  })
  .strict();
