import type { PreprocessSpec } from './spec.js';

/**
 * The preprocessing of the built-in PaddleOCR models, in the core so that a device makes exactly
 * the tensors the server makes (src/runtime/builtin.ts names the models that read them).
 */
/** ImageNet statistics, which PaddleOCR's detector normalises with. */
const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
/** (x / 255 - 0.5) / 0.5: the recogniser's and the classifier's -1..1 range. */
const HALF: [number, number, number] = [0.5, 0.5, 0.5];

/**
 * PaddleOCR PP-OCRv4 detection as its predict_det.py runs it: BGR (OpenCV's order, which the
 * models were trained on), long side limited to 960, sides rounded to multiples of 32.
 */
export const DETECTION_PREPROCESS: PreprocessSpec = {
  resize: { mode: 'limit-long-side', target: 960, multipleOf: 32 },
  channelOrder: 'bgr',
  scale: 1 / 255,
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  layout: 'nchw',
};

/** predict_cls.py: 48 x 192 (3, 48, 192 cls_image_shape), width by aspect, padded with 0. */
export const ORIENTATION_PREPROCESS: PreprocessSpec = {
  resize: { mode: 'fixed-height', height: 48, maxWidth: 192 },
  channelOrder: 'bgr',
  scale: 1 / 255,
  mean: HALF,
  std: HALF,
  layout: 'nchw',
  padding: { width: 192, value: 0 },
};

/**
 * predict_rec.py: height 48, width by aspect without a cap, each batch padded with 0 to its
 * widest crop and to at least 320 (the 3, 48, 320 rec_image_shape). The margin is ours: a tenth of
 * the crop's height on every side, so the line's first and last strokes are not cut at the crop's
 * edge (docs/document-pipeline.md, scripts/measure-ocr.ts).
 */
export const RECOGNITION_PREPROCESS: PreprocessSpec = {
  margin: { vertical: 0.1, horizontal: 0.1 },
  resize: { mode: 'fixed-height', height: 48 },
  channelOrder: 'bgr',
  scale: 1 / 255,
  mean: HALF,
  std: HALF,
  layout: 'nchw',
  padding: { width: 320, value: 0 },
};

/** The detector's DB post-processing as PaddleOCR runs it (det_db_thresh, det_db_box_thresh, unclip ratio, slow scoring). */
export const DETECTION_POSTPROCESS = { kind: 'db', threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, maxCandidates: 1000, scoreMode: 'slow' } as const;

/**
 * CTC greedy decoding with the space boosted 100 times on blank steps between characters, and
 * full-width punctuation beside ASCII made ASCII: plain greedy decoding of this Chinese-and-English
 * model drops most spaces between Latin words (8.9% character errors on generated receipts and
 * labels, 0.5% without counting spaces); boosted, 0.6% (docs/document-pipeline.md).
 */
export const RECOGNITION_POSTPROCESS = { kind: 'ctc', spaceBoost: 100, asciiForms: true } as const;
