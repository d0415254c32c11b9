import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { TensorData } from '../session.js';
import { encodeModel, FLOAT, onnx, type Model } from './graph.js';
import type { ActivationRange } from './qdq.js';

/**
 * Runs the float model on the calibration inputs with every tensor in `names` added to its
 * outputs, and keeps the range each one takes. The inputs must be preprocessed exactly as in
 * serving (the model's own spec), or the ranges describe data the model never sees.
 */
export async function calibrateRanges(
  model: Model,
  names: string[],
  inputs: AsyncIterable<Record<string, TensorData>> | Iterable<Record<string, TensorData>>,
  onInput?: () => void,
): Promise<Map<string, ActivationRange>> {
  const augmented = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const existing = new Set((augmented.graph!.output ?? []).map((o) => o.name));
  for (const name of names) {
    if (!existing.has(name)) augmented.graph!.output!.push({ name, type: { tensorType: { elemType: FLOAT } } });
  }
  const session = await InferenceSession.create(encodeModel(augmented), { graphOptimizationLevel: 'disabled' });
  const sums = new Map<string, ActivationRange>();
  let count = 0;
  try {
    for await (const feeds of inputs) {
      const ortFeeds: Record<string, OrtTensor> = {};
      for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = new OrtTensor('float32', tensor.data, tensor.dims);
      const outputs = await session.run(ortFeeds, names);
      for (const name of names) {
        const data = outputs[name].data as Float32Array;
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          if (v < min) min = v;
          if (v > max) max = v;
        }
        const seen = sums.get(name) ?? { min: 0, max: 0 };
        sums.set(name, { min: seen.min + min, max: seen.max + max });
      }
      count++;
      onInput?.();
    }
  } finally {
    await session.release();
  }
  const ranges = new Map<string, ActivationRange>();
  for (const [name, sum] of sums) ranges.set(name, { min: sum.min / count, max: sum.max / count });
  return ranges;
}
