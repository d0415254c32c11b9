import { z } from 'zod';

/**
 * How a frame becomes a model's input tensor, as plain data: the same spec drives inference on the
 * server and in the browser, is exported beside a model for training, and is hashed into every
 * result's lineage (`preprocessHash`), so a change to any field is a new preprocessing version.
 * Optional fields left out are left out of the hash too, which is how specs written before a field
 * existed keep their hash (the built-in models' lineage); writing a default out is a new version.
 */
export type ResizeSpec =
  /**
   * Shrinks so the long side is at most `target` (never enlarges), then rounds each side to the
   * nearest multiple of `multipleOf` (at least one multiple): PaddleOCR's DetResizeForTest with
   * limit_type 'max'. The aspect ratio changes slightly; box coordinates scale back per axis.
   */
  | { mode: 'limit-long-side'; target: number; multipleOf: number }
  /**
   * Scales to `height` and the width that keeps the aspect ratio, rounded up (and up to a multiple
   * of `multipleOf` when given), capped at `maxWidth`: PaddleOCR's recogniser and classifier.
   */
  | { mode: 'fixed-height'; height: number; maxWidth?: number; multipleOf?: number }
  /** Stretches to exactly width x height (a manifest's `stretch`). */
  | { mode: 'fixed'; width: number; height: number }
  /**
   * Ultralytics' LetterBox (auto=False, center=True): scales by min(width / w, height / h) (never
   * above 1 when `scaleUp` is false), rounds the scaled sides, and pads to width x height with
   * `padValue` (a byte, 114 by default), the odd pixel of padding going below and right.
   */
  | { mode: 'letterbox'; width: number; height: number; padValue?: number; scaleUp?: boolean }
  /**
   * torchvision's Resize(size) with an int: the shorter side becomes `size` and the longer one
   * keeps the aspect ratio (truncated), then CenterCrop(crop) when `crop` is given.
   */
  | { mode: 'shorter-side'; size: number; crop?: { width: number; height: number } };

/**
 * The resampling of the library a model was trained with. `opencv-*` are cv2.resize's
 * INTER_LINEAR (no anti-aliasing), INTER_AREA and INTER_NEAREST; `pil-*` are Pillow's BILINEAR and
 * BICUBIC, which anti-alias when shrinking (torchvision on PIL images, or antialias=True).
 */
export type Interpolation = 'opencv-linear' | 'opencv-area' | 'opencv-nearest' | 'pil-bilinear' | 'pil-bicubic';

export interface PreprocessSpec {
  /**
   * A border added before resizing, in fractions of the input's height: `vertical` above and
   * below, `horizontal` left and right, filled with the median colour of the input's edge. Text
   * line crops are as tight as the detector's boxes; PaddleOCR's recogniser drops the spaces
   * between words unless the line sits in some background (docs/document-pipeline.md).
   */
  margin?: { vertical: number; horizontal: number };
  resize: ResizeSpec;
  /**
   * How samples are resampled. Absent: the built-in models' resize, INTER_LINEAR's positions and
   * weights with OpenCV's scalar rounding, which cv2.resize's vector code differs from by one level
   * on about a tenth of the samples; 'opencv-linear' is cv2.resize's result exactly.
   */
  interpolation?: Interpolation;
  /** Channel order of the tensor; PaddleOCR's models were trained on OpenCV's BGR. */
  channelOrder: 'rgb' | 'bgr';
  /** Each sample is multiplied by this first (1 / 255 maps bytes to 0..1)... */
  scale: number;
  /** ...then (value - mean[c]) / std[c], per channel in `channelOrder`. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Planar [N, 3, H, W] (PyTorch, ONNX exports) or interleaved [N, H, W, 3] (TensorFlow, Keras). */
  layout: 'nchw' | 'nhwc';
  /**
   * Pads the tensor on the right to at least `width` columns (to the widest input in a batch when
   * wider) with `value`, a value in normalised units: PaddleOCR pads with 0 after normalising.
   */
  padding?: { width?: number; value: number };
}

const positiveInt = z.number().int().positive();
const triple = z.tuple([z.number(), z.number(), z.number()]);

export const resizeSpecSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('limit-long-side'), target: positiveInt, multipleOf: positiveInt }).strict(),
  z.object({ mode: z.literal('fixed-height'), height: positiveInt, maxWidth: positiveInt.optional(), multipleOf: positiveInt.optional() }).strict(),
  z.object({ mode: z.literal('fixed'), width: positiveInt, height: positiveInt }).strict(),
  z
    .object({
      mode: z.literal('letterbox'),
      width: positiveInt,
      height: positiveInt,
      padValue: z.number().int().min(0).max(255).optional(),
      scaleUp: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('shorter-side'),
      size: positiveInt,
      crop: z.object({ width: positiveInt, height: positiveInt }).strict().optional(),
    })
    .strict(),
]);

export const interpolationSchema = z.enum(['opencv-linear', 'opencv-area', 'opencv-nearest', 'pil-bilinear', 'pil-bicubic']);

/** Validates a spec at the boundary (a manifest file, a registry entry, a request). */
export const preprocessSpecSchema: z.ZodType<PreprocessSpec> = z
  .object({
    margin: z.object({ vertical: z.number().min(0).max(4), horizontal: z.number().min(0).max(4) }).strict().optional(),
    resize: resizeSpecSchema,
    interpolation: interpolationSchema.optional(),
    channelOrder: z.enum(['rgb', 'bgr']),
    scale: z.number().positive(),
    mean: triple,
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
    layout: z.enum(['nchw', 'nhwc']),
    padding: z.object({ width: positiveInt.optional(), value: z.number() }).strict().optional(),
  })
  .strict();
