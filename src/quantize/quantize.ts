/**
 * The quantiser works on ONNX files rather than on loaded models, so unlike the pipeline it talks
 * to onnxruntime-node directly: sessions from bytes, with calibration outputs added to the graph.
 */
import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { VisionopsError } from '../core/errors.js';
import { topClass } from '../core/postprocess/classification.js';
import { ctcGreedyDecodeBatch } from '../core/postprocess/ctc.js';
import { extractTextBoxes } from '../core/postprocess/db.js';
import type { Quad } from '../core/postprocess/geometry.js';
import { editDistance } from '../core/text/error-rate.js';
import type { IngestConfig } from '../image/config.js';
import type { PipelineConfig } from '../pipeline/config.js';
import { registerModel, type RegisteredModel } from '../registry/local-models.js';
import { builtinManifests } from '../runtime/builtin.js';
import type { RuntimeConfig } from '../runtime/config.js';
import type { ModelManifest } from '../runtime/manifest.js';
import type { TensorData } from '../runtime/session.js';
import { calibrationInputs, type CalibrationInput, type ModelRole } from './calibrate.js';
import { calibrationModel, prepareModel, quantizeQdq, type ActivationRange, type QuantizationSummary } from './qdq.js';

export interface QuantizeOptions {
  role: ModelRole;
  files: string[];
  /** Every how-many-th image is held back from calibration to judge the result (4: a quarter). */
  holdBackEvery: number;
  modelsDir: string;
  settings: { ingest: IngestConfig; pipeline: PipelineConfig; runtime: RuntimeConfig };
  log?: (line: string) => void;
  /** The new version's name; the parent's with `-int8` after it by default. */
  version?: string;
}

export interface QuantizeReport {
  model: { id: string; version: string; sha256: string; path: string };
  parent: { id: string; version: string; sha256: string };
  summary: QuantizationSummary;
  calibration: { images: number; inputs: number };
  heldBack: { images: number; inputs: number };
  /** FP32 time over INT8 time on the held-back inputs, one at a time, same threads. */
  speedup: number;
  fp32Ms: number;
  int8Ms: number;
  /** recognition: character error rate of INT8's text against FP32's, in percentage points; detection: share of boxes both find; orientation: share of equal labels. */
  accuracy: { metric: 'cer_vs_fp32_points' | 'box_agreement' | 'label_agreement'; value: number };
}

function ortTensor(tensor: TensorData): Tensor {
  return new Tensor('float32', tensor.data, tensor.dims);
}

/** Per activation, the least and greatest value over every calibration input. */
async function calibrate(modelBytes: Uint8Array, activations: string[], inputName: string, inputs: CalibrationInput[], runtime: RuntimeConfig): Promise<Map<string, ActivationRange>> {
  // Severity 3: errors only; the added outputs make onnxruntime warn about every one it cannot fuse through.
  const session = await InferenceSession.create(modelBytes, { intraOpNumThreads: runtime.intraOpThreads, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const ranges = new Map<string, ActivationRange>();
  try {
    for (const input of inputs) {
      const outputs = await session.run({ [inputName]: ortTensor(input.tensor) });
      for (const name of activations) {
        const data = outputs[name].data as Float32Array;
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < data.length; i++) {
          if (data[i] < min) min = data[i];
          if (data[i] > max) max = data[i];
        }
        const seen = ranges.get(name);
        ranges.set(name, seen === undefined ? { min, max } : { min: Math.min(seen.min, min), max: Math.max(seen.max, max) });
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}

/** Runs each input through both sessions in turn; returns every output and the total milliseconds of each. */
async function runBoth(fp32: InferenceSession, int8: InferenceSession, inputName: string, inputs: CalibrationInput[]) {
  const outputs: { fp32: Tensor; int8: Tensor }[] = [];
  let fp32Ms = 0;
  let int8Ms = 0;
  for (const input of inputs) {
    const feeds = { [inputName]: ortTensor(input.tensor) };
    let at = performance.now();
    const a = Object.values(await fp32.run(feeds))[0] as Tensor;
    fp32Ms += performance.now() - at;
    at = performance.now();
    const b = Object.values(await int8.run(feeds))[0] as Tensor;
    int8Ms += performance.now() - at;
    outputs.push({ fp32: a, int8: b });
  }
  return { outputs, fp32Ms, int8Ms };
}

function boundsOf(quad: Quad): [number, number, number, number] {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

function iou(a: Quad, b: Quad): number {
  const [ax0, ay0, ax1, ay1] = boundsOf(a);
  const [bx0, by0, bx1, by1] = boundsOf(b);
  const w = Math.max(0, Math.min(ax1, bx1) - Math.max(ax0, bx0));
  const h = Math.max(0, Math.min(ay1, by1) - Math.max(ay0, by0));
  const inter = w * h;
  const union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
  return union > 0 ? inter / union : 0;
}

/** Boxes found by both (bounding rectangles overlapping by IoU >= 0.5, each matched once) over all boxes either found, Dice-style. */
export function boxAgreement(reference: Quad[], candidate: Quad[]): number {
  if (reference.length + candidate.length === 0) return 1;
  const unmatched = [...candidate];
  let matched = 0;
  for (const box of reference) {
    const best = unmatched.findIndex((other) => iou(box, other) >= 0.5);
    if (best >= 0) {
      unmatched.splice(best, 1);
      matched++;
    }
  }
  return (2 * matched) / (reference.length + candidate.length);
}

function accuracyOf(role: ModelRole, manifest: ModelManifest, outputs: { fp32: Tensor; int8: Tensor }[]): QuantizeReport['accuracy'] {
  if (role === 'recognition') {
    const options = manifest.postprocess.kind === 'ctc' ? manifest.postprocess : {};
    const read = (t: Tensor) => ctcGreedyDecodeBatch(t.data as Float32Array, 1, t.dims[1], t.dims[2], manifest.labels ?? [], options)[0].text;
    let errors = 0;
    let characters = 0;
    for (const { fp32, int8 } of outputs) {
      const reference = read(fp32);
      errors += editDistance(reference, read(int8));
      characters += reference.length;
    }
    return { metric: 'cer_vs_fp32_points', value: characters === 0 ? 0 : (100 * errors) / characters };
  }
  if (role === 'detection') {
    if (manifest.postprocess.kind !== 'db') throw new VisionopsError('INTERNAL', 'The detection model needs DB post-processing.');
    const { threshold, boxThreshold, unclipRatio, maxCandidates } = manifest.postprocess;
    const boxes = (t: Tensor) =>
      extractTextBoxes({ data: t.data as Float32Array, width: t.dims[3], height: t.dims[2] }, { threshold, boxThreshold, unclipRatio, maxCandidates }, t.dims[3], t.dims[2]).map((b) => b.box);
    const agreements = outputs.map(({ fp32, int8 }) => boxAgreement(boxes(fp32), boxes(int8)));
    return { metric: 'box_agreement', value: agreements.reduce((a, b) => a + b, 0) / Math.max(1, agreements.length) };
  }
  const labels = manifest.labels ?? [];
  const same = outputs.filter(({ fp32, int8 }) => topClass(fp32.data as Float32Array, labels).label === topClass(int8.data as Float32Array, labels).label).length;
  return { metric: 'label_agreement', value: same / Math.max(1, outputs.length) };
}

/**
 * `visionops quantize`: calibrates a built-in model's activations on the images (all but every
 * `holdBackEvery`-th), writes its static QDQ INT8 version, measures it against FP32 on the
 * held-back images and registers it under the models folder with its parent noted.
 * Throws INVALID_REQUEST when the images give nothing to calibrate or to judge on.
 */
export async function quantizeBuiltin(options: QuantizeOptions): Promise<{ report: QuantizeReport; registered: RegisteredModel; bytes: Uint8Array }> {
  const log = options.log ?? (() => {});
  const manifests = await builtinManifests();
  const parent = manifests[options.role];
  const inputName = parent.inputs[0].name;
  log(`reading ${options.files.length} images into ${options.role} inputs with the model's preprocessing`);
  const inputs = await calibrationInputs(options.role, options.files, manifests, options.settings);
  const heldBack = inputs.filter((input) => input.page % options.holdBackEvery === options.holdBackEvery - 1);
  const calibration = inputs.filter((input) => input.page % options.holdBackEvery !== options.holdBackEvery - 1);
  if (calibration.length === 0 || heldBack.length === 0) {
    throw new VisionopsError(
      'INVALID_REQUEST',
      `The images gave ${calibration.length} inputs to calibrate on and ${heldBack.length} to judge on: give at least ${options.holdBackEvery} images with text (every ${options.holdBackEvery}th is held back).`,
    );
  }

  const prepared = prepareModel(await readFile(parent.path));
  log(`calibrating ${prepared.activations.length} activations of ${prepared.targets.length} Conv/MatMul nodes on ${calibration.length} inputs`);
  const ranges = await calibrate(calibrationModel(prepared), prepared.activations, inputName, calibration, options.settings.runtime);
  const { bytes, summary } = quantizeQdq(prepared, ranges);

  log(`judging INT8 against FP32 on ${heldBack.length} held-back inputs`);
  const sessionOptions: InferenceSession.SessionOptions = { intraOpNumThreads: options.settings.runtime.intraOpThreads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const fp32 = await InferenceSession.create(parent.path, sessionOptions);
  const int8 = await InferenceSession.create(bytes, sessionOptions);
  let judged;
  try {
    await runBoth(fp32, int8, inputName, heldBack.slice(0, 2));
    judged = await runBoth(fp32, int8, inputName, heldBack);
  } finally {
    await Promise.all([fp32.release(), int8.release()]);
  }
  const accuracy = accuracyOf(options.role, parent, judged.outputs);

  const { path: _path, sha256: _sha256, ...rest } = parent;
  const pages = (list: CalibrationInput[]) => new Set(list.map((input) => input.page)).size;
  const registered = await registerModel(options.modelsDir, {
    manifest: { ...rest, id: `${parent.id}-int8`, version: options.version ?? `${parent.version}-int8` },
    bytes,
    parent: { id: parent.id, version: parent.version, sha256: parent.sha256 },
    notes: { method: 'static QDQ INT8: per-channel symmetric int8 weights, uint8 activations (min/max calibration)', summary, speedup: judged.fp32Ms / judged.int8Ms, accuracy },
  });
  const report: QuantizeReport = {
    model: { id: registered.manifest.id, version: registered.manifest.version, sha256: registered.manifest.sha256, path: registered.manifest.path },
    parent: registered.parent!,
    summary,
    calibration: { images: pages(calibration), inputs: calibration.length },
    heldBack: { images: pages(heldBack), inputs: heldBack.length },
    speedup: judged.fp32Ms / judged.int8Ms,
    fp32Ms: judged.fp32Ms,
    int8Ms: judged.int8Ms,
    accuracy,
  };
  return { report, registered, bytes };
}
