import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { TensorData } from '../session.js';
import { calibrateRanges } from './calibrate.js';
import { fuseHardSwish } from './fuse-hard-swish.js';
import { decodeModel, encodeModel } from './graph.js';
import { activationsToCalibrate, insertQdq } from './qdq.js';

export type Feeds = Record<string, TensorData>;
export type Outputs = Record<string, TensorData>;

/** How far the quantised model's outputs are from the float model's on one input: errors out of a total. */
export type Comparison = (float: Outputs, quantized: Outputs) => { errors: number; total: number };

export interface QuantizeRequest {
  /** The float model's ONNX file. */
  path: string;
  /** Inputs preprocessed with the model's own spec: ranges are measured on these... */
  calibration: Feeds[];
  /** ...and speed and accuracy on these, which calibration never saw. */
  heldBack: Feeds[];
  /** What accuracy means for this model (character errors for a recogniser, unmatched boxes for a detector). */
  compare: Comparison;
  /** onnxruntime intra-op threads for the timing, as serving runs it. */
  threads: number;
  onProgress?: (stage: 'calibrate' | 'evaluate', done: number, total: number) => void;
}

export interface QuantizeReport {
  quantizedNodes: number;
  /** Hard-swish chains rewritten to HardSigmoid and Mul before quantising. */
  hardSwishFused: number;
  calibrationInputs: number;
  heldBackInputs: number;
  /**
   * Mean milliseconds per held-back input: the parent float model, the float model with only the
   * hard-swish rewrite, and the int8 model, run in turn on each input so load falls on all alike.
   */
  floatMs: number;
  rewrittenFloatMs: number;
  int8Ms: number;
  /** floatMs / int8Ms: what the new version gains over its parent. */
  speedup: number;
  /** Errors of the int8 outputs against the float model's, over the held-back inputs. */
  errorRate: number;
  bytes: { float: number; int8: number };
}

/**
 * Static INT8 quantisation of an ONNX model: calibrate activation ranges on real inputs, insert
 * QDQ pairs with per-channel int8 weights, then measure what it bought and what it cost on inputs
 * the calibration did not see. Returns the new model's bytes; registering them is the caller's.
 */
export async function quantizeModel(request: QuantizeRequest): Promise<{ weights: Uint8Array; report: QuantizeReport }> {
  const floatBytes = await readFile(request.path);
  const model = decodeModel(floatBytes);
  const hardSwishFused = fuseHardSwish(model);
  const rewrittenBytes = encodeModel(model);
  let calibrated = 0;
  const ranges = await calibrateRanges(model, activationsToCalibrate(model), request.calibration, () =>
    request.onProgress?.('calibrate', ++calibrated, request.calibration.length),
  );
  const { model: quantized, quantizedNodes } = insertQdq(model, ranges);
  const weights = encodeModel(quantized);

  const options: InferenceSession.SessionOptions = { intraOpNumThreads: request.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const [floatSession, rewrittenSession, int8Session] = await Promise.all(
    [floatBytes, rewrittenBytes, weights].map((bytes) => InferenceSession.create(bytes, options)),
  );
  let floatMs = 0;
  let rewrittenMs = 0;
  let int8Ms = 0;
  let errors = 0;
  let total = 0;
  try {
    for (const [i, feeds] of request.heldBack.entries()) {
      const [floatOut, floatTime] = await timedRun(floatSession, feeds);
      const [, rewrittenTime] = await timedRun(rewrittenSession, feeds);
      const [int8Out, int8Time] = await timedRun(int8Session, feeds);
      floatMs += floatTime;
      rewrittenMs += rewrittenTime;
      int8Ms += int8Time;
      const compared = request.compare(floatOut, int8Out);
      errors += compared.errors;
      total += compared.total;
      request.onProgress?.('evaluate', i + 1, request.heldBack.length);
    }
  } finally {
    await Promise.all([floatSession.release(), rewrittenSession.release(), int8Session.release()]);
  }
  const count = Math.max(1, request.heldBack.length);
  return {
    weights,
    report: {
      quantizedNodes,
      hardSwishFused,
      calibrationInputs: request.calibration.length,
      heldBackInputs: request.heldBack.length,
      floatMs: floatMs / count,
      rewrittenFloatMs: rewrittenMs / count,
      int8Ms: int8Ms / count,
      speedup: int8Ms > 0 ? floatMs / int8Ms : 0,
      errorRate: total > 0 ? errors / total : 0,
      bytes: { float: floatBytes.length, int8: weights.length },
    },
  };
}

async function timedRun(session: InferenceSession, feeds: Feeds): Promise<[Outputs, number]> {
  const ortFeeds: Record<string, OrtTensor> = {};
  for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = new OrtTensor('float32', tensor.data, tensor.dims);
  const started = performance.now();
  const outputs = await session.run(ortFeeds);
  const elapsed = performance.now() - started;
  const result: Outputs = {};
  for (const [name, value] of Object.entries(outputs)) result[name] = { data: value.data as Float32Array, dims: [...value.dims] };
  return [result, elapsed];
}
