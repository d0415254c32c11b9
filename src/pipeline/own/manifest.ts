import { z } from 'zod';
import { VisionopsError } from '../../core/errors.js';
import type { GenericLayout } from '../../core/postprocess/detection.js';
import { gateSettingsSchema } from '../../core/quality/gate-settings.js';
import type { Interpolation, PreprocessSpec, ResizeSpec } from '../../core/preprocess/spec.js';

/**
 * The model manifest a user writes for their own ONNX classifier or detector (docs/own-models.md).
 * Keys beyond these are allowed and kept (notes, training run ids), so a manifest written for
 * another tool or a later version still loads; a key given with a wrong value is an error naming it.
 */
const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);
const triple = z.tuple([z.number(), z.number(), z.number()]);
const labelList = z.array(z.string().min(1)).min(1);

const inputSchema = z.looseObject({
  /** The graph's input tensor; its first input when left out. */
  name: z.string().min(1).optional(),
  width: positiveInt,
  height: positiveInt,
  layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
  colors: z.enum(['RGB', 'BGR']).default('RGB'),
  resize: z.enum(['stretch', 'letterbox', 'shorter-side']).default('stretch'),
  /** Library-neutral names; `antialias` tells PIL's (true) from OpenCV's (false) bilinear. Library names are accepted as well. */
  interpolation: z.enum(['bilinear', 'bicubic', 'area', 'nearest', 'opencv-linear', 'opencv-area', 'opencv-nearest', 'pil-bilinear', 'pil-bicubic']).default('bilinear'),
  antialias: z.boolean().optional(),
  /** Samples are divided by this first: 255 maps bytes to 0..1, 1 keeps them 0..255. */
  scale: z.number().positive().default(255),
  mean: triple.default([0, 0, 0]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([1, 1, 1]),
  /** letterbox: the byte the border is filled with (Ultralytics' 114). */
  padValue: z.number().int().min(0).max(255).optional(),
  /** letterbox: whether small images are enlarged to fill the box (Ultralytics' scaleup, true). */
  scaleUp: z.boolean().optional(),
  /** shorter-side: the shorter side's length before the centre crop to width x height (torchvision's Resize(256) + CenterCrop(224)); the crop's longer side by default. */
  shorterSide: positiveInt.optional(),
});

const decisionSchema = z
  .looseObject({
    /** Accepted when the top label (every box, for detection) scores at least this. */
    acceptAbove: probability.default(0.9),
    /** Classification: rejected when the top label scores under this; between the two, review. */
    rejectBelow: probability.default(0),
    /** Labels a person always checks, however sure the model is. */
    alwaysReview: z.array(z.string()).default([]),
    /** Detection: an image with no box goes to review instead of being accepted. */
    reviewEmpty: z.boolean().default(false),
  })
  .refine((decision) => decision.rejectBelow <= decision.acceptAbove, { message: 'rejectBelow must not exceed acceptAbove', path: ['rejectBelow'] });

const labelsSchema = {
  /** The class names in the model's output order... */
  labels: labelList.optional(),
  /** ...or a text file with one per line, relative to the manifest's folder. */
  labelsFile: z.string().min(1).optional(),
};

const classificationOutputSchema = z.looseObject({
  decode: z.enum(['softmax', 'sigmoid', 'none']).default('softmax'),
  /** The graph's output holding the scores; its first output when left out. */
  name: z.string().min(1).optional(),
  topK: positiveInt.default(5),
  ...labelsSchema,
});

const detectionOutputSchema = z.looseObject({
  decode: z.enum(['yolov5', 'yolov8', 'yolo11', 'generic']),
  /** yolov5 / yolov8: the graph's output; its first output when left out. */
  name: z.string().min(1).optional(),
  scoreThreshold: probability.default(0.25),
  iou: probability.default(0.45),
  maxDetections: positiveInt.default(300),
  /** generic: the names of the boxes, scores and (optional) classes outputs. */
  outputs: z.looseObject({ boxes: z.string().min(1), scores: z.string().min(1), classes: z.string().min(1).optional() }).optional(),
  /** generic: the order of each box's four numbers. */
  boxFormat: z.enum(['xyxy', 'xywh', 'cxcywh', 'yxyx']).default('xyxy'),
  /** generic: box numbers in 0..1 of the input rather than input pixels. */
  normalized: z.boolean().default(false),
  ...labelsSchema,
});

const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_"'),
  /** The ONNX file, relative to the manifest's folder. */
  model: z.string().min(1),
  /** The model's version in lineage and the registry; the first 12 hex digits of its SHA-256 when left out. */
  version: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-"').optional(),
  input: inputSchema,
  decision: decisionSchema.prefault({}),
  /** The gate for this pipeline's images (`src/core/quality/gate-settings.ts`): the scene gate unless `content` says `document`. */
  gate: z.record(z.string(), z.unknown()).optional(),
};

/** The manifest's `gate` object as the gate's settings: scene checks by default, resolution judged against the model's input. */
export function gateSettingsOf(manifest: { gate?: Record<string, unknown>; input: { width: number; height: number } }) {
  return gateSettingsSchema.safeParse({ content: 'scene', ...manifest.gate, modelInput: { width: manifest.input.width, height: manifest.input.height } });
}

function validGate(manifest: { gate?: Record<string, unknown>; input: { width: number; height: number } }, context: z.RefinementCtx): void {
  const parsed = gateSettingsOf(manifest);
  if (!parsed.success) for (const issue of parsed.error.issues) context.addIssue({ code: 'custom', message: issue.message, path: ['gate', ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))] });
}

function needsLabels(output: { labels?: string[]; labelsFile?: string }, context: z.RefinementCtx): void {
  if (output.labels === undefined && output.labelsFile === undefined) {
    context.addIssue({ code: 'custom', message: 'list the class names (labels) or name a file of them (labelsFile)', path: ['output', 'labels'] });
  }
}

export const userManifestSchema = z.discriminatedUnion('task', [
  z.looseObject({ ...common, task: z.literal('classification'), output: classificationOutputSchema.prefault({}) }).superRefine((m, context) => {
    needsLabels(m.output, context);
    validGate(m, context);
  }),
  z
    .looseObject({ ...common, task: z.literal('detection'), output: detectionOutputSchema })
    .superRefine((m, context) => {
      needsLabels(m.output, context);
      validGate(m, context);
      if (m.output.decode === 'generic' && m.output.outputs === undefined) {
        context.addIssue({ code: 'custom', message: 'the generic decoder needs the names of the model\'s outputs: {"boxes": ..., "scores": ..., "classes": ...}', path: ['output', 'outputs'] });
      }
    }),
]);

export type UserManifest = z.infer<typeof userManifestSchema>;
export type ClassificationManifest = Extract<UserManifest, { task: 'classification' }>;
export type DetectionManifest = Extract<UserManifest, { task: 'detection' }>;

/**
 * Validates a parsed manifest file. Throws INVALID_CONFIG listing each problem by its key
 * (`input.width: expected number...`), the way configuration errors read.
 *
 * @example parseUserManifest(JSON.parse(text), 'models/defects/manifest.json')
 */
export function parseUserManifest(value: unknown, origin: string): UserManifest {
  const parsed = userManifestSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => ({ key: issue.path.map(String).join('.') || '(the manifest)', problem: issue.message.replace(/^Invalid input: /, '') }));
  throw new VisionopsError('INVALID_CONFIG', `Invalid model manifest ${origin}:\n${problems.map((p) => `  - ${p.key}: ${p.problem}`).join('\n')}\nSee docs/own-models.md for every key.`, {
    manifest: origin,
    problems,
  });
}

/** The resampling the manifest names, as the preprocessing spec names it: PIL's when anti-aliased, OpenCV's otherwise. */
function interpolationOf(input: UserManifest['input']): Interpolation {
  const { interpolation, antialias } = input;
  switch (interpolation) {
    case 'bilinear':
      return antialias === true ? 'pil-bilinear' : 'opencv-linear';
    case 'bicubic':
      if (antialias === false) {
        throw new VisionopsError('INVALID_CONFIG', 'input.interpolation: bicubic is implemented as Pillow resamples it (anti-aliased); remove "antialias": false or choose bilinear.', { key: 'input.antialias' });
      }
      return 'pil-bicubic';
    case 'area':
      return 'opencv-area';
    case 'nearest':
      return 'opencv-nearest';
    default:
      return interpolation;
  }
}

function resizeOf(input: UserManifest['input']): ResizeSpec {
  const { width, height } = input;
  switch (input.resize) {
    case 'stretch':
      return { mode: 'fixed', width, height };
    case 'letterbox':
      return { mode: 'letterbox', width, height, padValue: input.padValue ?? 114, scaleUp: input.scaleUp ?? true };
    case 'shorter-side':
      return { mode: 'shorter-side', size: input.shorterSide ?? Math.max(width, height), crop: { width, height } };
  }
}

/** The manifest's input as visionops' preprocessing spec: what serving, parity and the lineage's hash use. */
export function preprocessSpecOf(manifest: UserManifest): PreprocessSpec {
  const { input } = manifest;
  return {
    resize: resizeOf(input),
    interpolation: interpolationOf(input),
    channelOrder: input.colors === 'BGR' ? 'bgr' : 'rgb',
    scale: 1 / input.scale,
    mean: input.mean,
    std: input.std,
    layout: input.layout === 'NHWC' ? 'nhwc' : 'nchw',
  };
}

/** The generic decoder's box layout, normalised boxes scaled by the input's size. */
export function genericLayoutOf(manifest: DetectionManifest): GenericLayout {
  const { output, input } = manifest;
  return { boxFormat: output.boxFormat, ...(output.normalized ? { normalized: { width: input.width, height: input.height } } : {}) };
}

/**
 * The default parity tolerance: one level of 255 in the normalised range, i.e. one byte step
 * through the largest per-channel gain (scale / std).
 */
export function oneLevel(spec: PreprocessSpec): number {
  return spec.scale / Math.min(...spec.std);
}
