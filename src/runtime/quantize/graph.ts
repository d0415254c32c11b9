import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

/** onnx-proto is CommonJS: its namespace arrives as the default export under ESM. */
export const { onnx } = onnxProto as unknown as { onnx: typeof Onnx };
export type Model = Onnx.ModelProto;
export type Node = Onnx.INodeProto;
export type Tensor = Onnx.ITensorProto;

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const UINT8 = onnx.TensorProto.DataType.UINT8;
export const INT8 = onnx.TensorProto.DataType.INT8;

/** onnxruntime's own domain: its QuantizeLinear/DequantizeLinear take a per-axis scale at any ai.onnx opset. */
export const MS_DOMAIN = 'com.microsoft';

export function decodeModel(bytes: Uint8Array): Model {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** The float values of a constant tensor, whichever of its two encodings the exporter chose. */
export function floatValues(tensor: Tensor): Float32Array {
  if (tensor.rawData && tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return Float32Array.from(tensor.floatData ?? []);
}

export function dimsOf(tensor: Tensor): number[] {
  return (tensor.dims ?? []).map(Number);
}

export function floatTensor(name: string, dims: number[], values: Float32Array): Tensor {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export function byteTensor(name: string, dims: number[], dataType: number, values: Int8Array | Uint8Array): Tensor {
  return { name, dims, dataType, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export function intAttribute(name: string, value: number): Onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

/**
 * Constant float tensors by the name they produce: paddle2onnx writes weights as Constant nodes
 * rather than initializers, so both are read.
 */
export function constantTensors(model: Model): Map<string, Tensor> {
  const constants = new Map<string, Tensor>();
  const graph = model.graph!;
  for (const initializer of graph.initializer ?? []) {
    if (initializer.name && initializer.dataType === FLOAT) constants.set(initializer.name, initializer);
  }
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Constant' || (node.domain ?? '') !== '') continue;
    const value = node.attribute?.find((a) => a.name === 'value')?.t;
    if (value && value.dataType === FLOAT && node.output?.[0]) constants.set(node.output[0], value);
  }
  return constants;
}

const INT64 = onnx.TensorProto.DataType.INT64;

/** Operators whose definition changed in ai.onnx opset 10, besides Slice which `toOpset10` rewrites. */
const CHANGED_IN_OPSET_10 = new Set(['Upsample', 'Dropout', 'MaxPool', 'TopK', 'Resize', 'Mod']);

/**
 * onnxruntime fuses QDQ groups into QLinearConv and QLinearMatMul, which exist from ai.onnx
 * opset 10. A graph exported at opset 9 (the PP-OCR recogniser) is brought to 10: of its
 * operators only Slice changed (its starts, ends and axes moved from attributes to inputs).
 * Refuses a graph holding another operator that changed, rather than guess its semantics.
 */
export function toOpset10(model: Model): void {
  const opset = (model.opsetImport ?? []).find((o) => (o.domain ?? '') === '');
  if (!opset || Number(opset.version) >= 10) return;
  const graph = model.graph!;
  const changed = (graph.node ?? []).filter((node) => (node.domain ?? '') === '' && CHANGED_IN_OPSET_10.has(node.opType!));
  if (changed.length > 0) {
    throw new Error(`the graph is at opset ${opset.version} and uses ${[...new Set(changed.map((n) => n.opType))].join(', ')}, which changed in opset 10: export it at opset 13`);
  }
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Slice' || (node.domain ?? '') !== '') continue;
    const attribute = (name: string) => (node.attribute ?? []).find((a) => a.name === name)?.ints?.map(Number);
    const starts = attribute('starts') ?? [];
    const ends = attribute('ends') ?? [];
    const axes = attribute('axes') ?? starts.map((_, i) => i);
    const prefix = `${node.name || node.output![0]}_opset10`;
    for (const [name, values] of [['starts', starts], ['ends', ends], ['axes', axes]] as const) {
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      graph.initializer!.push({ name: `${prefix}_${name}`, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) });
    }
    node.input = [node.input![0], `${prefix}_starts`, `${prefix}_ends`, `${prefix}_axes`];
    node.attribute = [];
  }
  opset.version = 10;
}

/** Drops Constant nodes nothing reads any more (a rewrite left them behind), so onnxruntime has nothing to warn about. */
export function pruneUnusedConstants(model: Model): void {
  const graph = model.graph!;
  const read = new Set([...(graph.node ?? []).flatMap((node) => node.input ?? []), ...(graph.output ?? []).map((o) => o.name)]);
  graph.node = (graph.node ?? []).filter((node) => node.opType !== 'Constant' || (node.output ?? []).some((output) => read.has(output)));
}
