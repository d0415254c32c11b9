import onnxProto from 'onnx-proto';
import { VisionopsError } from '../core/errors.js';
import type { TensorDescription } from './manifest.js';

const { onnx } = onnxProto;

/**
 * The inputs (initializers left out) and outputs an ONNX graph declares, with their shapes: a
 * dimension is its number when fixed, its name (or '?') when dynamic. A user's manifest may leave
 * the tensor names out; they are read from the graph here, before onnxruntime loads it.
 */
export function graphInterface(bytes: Uint8Array, origin: string): { inputs: TensorDescription[]; outputs: TensorDescription[] } {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new VisionopsError('MODEL_LOAD_FAILED', `${origin} is not an ONNX model (${error instanceof Error ? error.message : String(error)}): export the model to ONNX and point the manifest's model at that file.`, { model: origin }, { cause: error });
  }
  const graph = model.graph;
  if (graph === null || graph === undefined) throw new VisionopsError('MODEL_LOAD_FAILED', `${origin} holds no graph: export the model to ONNX again.`, { model: origin });
  const initialized = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const describe = (value: onnxProto.onnx.IValueInfoProto): TensorDescription => ({
    name: value.name ?? '',
    shape: (value.type?.tensorType?.shape?.dim ?? []).map((dim) => (dim.dimValue !== null && dim.dimValue !== undefined && Number(dim.dimValue) > 0 ? Number(dim.dimValue) : (dim.dimParam || '?'))),
  });
  return {
    inputs: (graph.input ?? []).filter((value) => !initialized.has(value.name ?? '')).map(describe),
    outputs: (graph.output ?? []).map(describe),
  };
}
