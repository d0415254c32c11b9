/**
 * Static QDQ INT8 quantisation of an ONNX graph, over the ONNX protobuf schema: the weights of
 * every Conv and MatMul with constant weights become int8 per output channel (symmetric), their
 * biases int32 at the input's scale times the weight's, and their activations uint8 with the
 * ranges calibration measured, each through a QuantizeLinear -> DequantizeLinear pair placed
 * right after the tensor is made. onnxruntime's QDQ transformer fuses DQ -> Conv -> Q into
 * QLinearConv (and MatMul likewise), so the multiply-adds run on integers.
 *
 * The built-in PaddleOCR models declare opset 9, older than the standard per-axis
 * QuantizeLinear (opset 13); the com.microsoft domain's QuantizeLinear/DequantizeLinear have the
 * same meaning with per-axis scales at any opset, and onnxruntime's QDQ fusions accept them. The
 * fused QLinearConv and QLinearMatMul exist from opset 10, so an opset 9 graph is raised to 10
 * first (Slice, whose attributes became inputs, is the one operator of these models that changed).
 */
import onnxProto from 'onnx-proto';
import { VisionopsError } from '../core/errors.js';

const { onnx } = onnxProto;
type Model = InstanceType<typeof onnx.ModelProto>;
type Node = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

const MS_DOMAIN = 'com.microsoft';
const DataType = onnx.TensorProto.DataType;

export interface FloatTensor {
  dims: number[];
  data: Float32Array;
}

export interface ActivationRange {
  min: number;
  max: number;
}

/** A model read for quantisation: its float constants, and the nodes and activations that will be quantised. */
export interface PreparedModel {
  model: Model;
  /** Conv and MatMul nodes with a constant weight (input 1). */
  targets: Node[];
  /** Every tensor a target reads (input 0) or writes: what calibration measures. */
  activations: string[];
  /** BatchNormalization nodes folded into the Conv before them. */
  foldedBatchNorms: number;
  /** Hard-swish chains (Add, Clip, Mul, Div) rewritten as x * HardSigmoid(x). */
  fusedHardSwish: number;
}

export interface QuantizationSummary {
  quantizedConv: number;
  quantizedMatMul: number;
  activations: number;
  foldedBatchNorms: number;
  fusedHardSwish: number;
}

function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

function readFloatTensor(tensor: TensorProto): FloatTensor | null {
  if (tensor.dataType !== DataType.FLOAT) return null;
  const dims = (tensor.dims ?? []).map(toNumber);
  if (tensor.rawData && tensor.rawData.length > 0) {
    const copy = new Uint8Array(tensor.rawData);
    return { dims, data: new Float32Array(copy.buffer, 0, copy.length / 4) };
  }
  return { dims, data: Float32Array.from(tensor.floatData ?? []) };
}

function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function bytesTensor(name: string, dims: number[], dataType: number, bytes: Uint8Array): TensorProto {
  return { name, dims, dataType, rawData: bytes };
}

/** The float constants of the graph by name: initializers and the outputs of Constant nodes. */
function floatConstants(model: Model): Map<string, FloatTensor> {
  const constants = new Map<string, FloatTensor>();
  const graph = model.graph!;
  for (const tensor of graph.initializer ?? []) {
    const value = readFloatTensor(tensor);
    if (value !== null && tensor.name) constants.set(tensor.name, value);
  }
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Constant') continue;
    const attribute = (node.attribute ?? []).find((a) => a.name === 'value');
    const value = attribute?.t ? readFloatTensor(attribute.t) : null;
    if (value !== null && node.output?.[0]) constants.set(node.output[0], value);
  }
  return constants;
}

function consumers(nodes: Node[], tensor: string): Node[] {
  return nodes.filter((node) => (node.input ?? []).includes(tensor));
}

function attributeFloat(node: Node, name: string, fallback: number): number {
  const attribute = (node.attribute ?? []).find((a) => a.name === name);
  return attribute?.f ?? fallback;
}

/**
 * Folds BatchNormalization into the Conv before it (w' = w * g / sqrt(v + e), b' = (b - m) * g /
 * sqrt(v + e) + beta), as onnxruntime would at load; done here so no Q/DQ pair ends up between them.
 */
function foldBatchNorms(model: Model, constants: Map<string, FloatTensor>): number {
  const graph = model.graph!;
  let nodes = graph.node ?? [];
  let folded = 0;
  for (const bn of [...nodes]) {
    if (bn.opType !== 'BatchNormalization') continue;
    const [x, scaleName, biasName, meanName, varName] = bn.input ?? [];
    const conv = nodes.find((node) => node.opType === 'Conv' && node.output?.[0] === x);
    if (conv === undefined || consumers(nodes, x).length !== 1 || (graph.output ?? []).some((o) => o.name === x)) continue;
    const weight = constants.get(conv.input?.[1] ?? '');
    const [gamma, beta, mean, variance] = [scaleName, biasName, meanName, varName].map((name) => constants.get(name));
    if (!weight || !gamma || !beta || !mean || !variance) continue;
    const channels = weight.dims[0];
    const perChannel = weight.data.length / channels;
    const epsilon = attributeFloat(bn, 'epsilon', 1e-5);
    const oldBias = conv.input?.[2] ? constants.get(conv.input[2]) : undefined;
    const newWeight = new Float32Array(weight.data.length);
    const newBias = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const factor = gamma.data[c] / Math.sqrt(variance.data[c] + epsilon);
      for (let i = 0; i < perChannel; i++) newWeight[c * perChannel + i] = weight.data[c * perChannel + i] * factor;
      newBias[c] = ((oldBias?.data[c] ?? 0) - mean.data[c]) * factor + beta.data[c];
    }
    const base = `${conv.name ?? conv.output![0]}_bnfolded`;
    graph.initializer = [...(graph.initializer ?? []), floatTensor(`${base}_w`, weight.dims, newWeight), floatTensor(`${base}_b`, [channels], newBias)];
    constants.set(`${base}_w`, { dims: weight.dims, data: newWeight });
    constants.set(`${base}_b`, { dims: [channels], data: newBias });
    conv.input = [conv.input![0], `${base}_w`, `${base}_b`];
    conv.output = [bn.output![0]];
    nodes = nodes.filter((node) => node !== bn);
    folded++;
  }
  graph.node = nodes;
  return folded;
}

function isScalar(constants: Map<string, FloatTensor>, name: string, value: number): boolean {
  const tensor = constants.get(name);
  return tensor !== undefined && tensor.data.length === 1 && tensor.data[0] === value;
}

/**
 * Paddle exports hard-swish as x * clip(x + 3, 0, 6) / 6: four element-wise passes, which took a
 * third of the recogniser's kernel time once its convolutions ran in int8. HardSigmoid(alpha 1/6,
 * beta 0.5) is clip(x + 3, 0, 6) / 6 in one pass (opset 6), so each chain becomes x * HardSigmoid(x).
 * Only Clip's attribute form (opset < 11) is matched, as these models use it.
 */
function fuseHardSwish(model: Model, constants: Map<string, FloatTensor>): number {
  const graph = model.graph!;
  let nodes = graph.node ?? [];
  const producerOf = new Map<string, Node>();
  for (const node of nodes) for (const output of node.output ?? []) producerOf.set(output, node);
  const removed = new Set<Node>();
  let fused = 0;
  for (const clip of nodes) {
    if (clip.opType !== 'Clip' || (clip.input ?? []).length !== 1) continue;
    if (attributeFloat(clip, 'min', NaN) !== 0 || attributeFloat(clip, 'max', NaN) !== 6) continue;
    const add = producerOf.get(clip.input![0]);
    if (add?.opType !== 'Add') continue;
    const three = (add.input ?? []).findIndex((name) => isScalar(constants, name, 3));
    if (three < 0) continue;
    const x = add.input![1 - three];
    const [mul, ...otherMuls] = consumers(nodes, clip.output![0]);
    if (mul?.opType !== 'Mul' || otherMuls.length > 0 || consumers(nodes, add.output![0]).length !== 1 || !(mul.input ?? []).includes(x)) continue;
    const [div, ...otherDivs] = consumers(nodes, mul.output![0]);
    if (div?.opType !== 'Div' || otherDivs.length > 0 || div.input![0] !== mul.output![0] || !isScalar(constants, div.input![1], 6)) continue;
    clip.opType = 'HardSigmoid';
    clip.input = [x];
    clip.attribute = [
      { name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 1 / 6 },
      { name: 'beta', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0.5 },
    ];
    mul.output = div.output;
    removed.add(add).add(div);
    fused++;
  }
  nodes = nodes.filter((node) => !removed.has(node));
  graph.node = nodes;
  return fused;
}

/** Operators whose meaning changed at opset 10 in a way `raiseToOpset10` does not rewrite. */
const CHANGED_AT_10 = new Set(['TopK', 'Upsample', 'Dropout']);

function int64Tensor(name: string, values: number[]): TensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setBigInt64(i * 8, BigInt(value), true));
  return { name, dims: [values.length], dataType: DataType.INT64, rawData: bytes };
}

/** Raises a default-domain opset below 10 to 10, moving Slice's starts/ends/axes attributes into inputs. */
function raiseToOpset10(model: Model): void {
  const opsets = model.opsetImport ?? [];
  const main = opsets.find((opset) => (opset.domain ?? '') === '');
  if (main === undefined || toNumber(main.version) >= 10) return;
  const graph = model.graph!;
  const blocking = (graph.node ?? []).find((node) => CHANGED_AT_10.has(node.opType ?? ''));
  if (blocking !== undefined) {
    throw new VisionopsError('INVALID_REQUEST', `The model declares opset ${toNumber(main.version)} and uses ${blocking.opType}, which changed at opset 10: convert it to opset 13 or later (onnx.version_converter) and quantise that.`);
  }
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Slice') continue;
    const ints = (name: string) => (node.attribute ?? []).find((a) => a.name === name)?.ints?.map(toNumber);
    const starts = ints('starts') ?? [];
    const ends = ints('ends') ?? [];
    const axes = ints('axes') ?? starts.map((_, i) => i);
    const base = `${node.name ?? node.output![0]}_slice`;
    graph.initializer = [...(graph.initializer ?? []), int64Tensor(`${base}_starts`, starts), int64Tensor(`${base}_ends`, ends), int64Tensor(`${base}_axes`, axes)];
    node.input = [node.input![0], `${base}_starts`, `${base}_ends`, `${base}_axes`];
    node.attribute = [];
  }
  main.version = 10;
}

function isDepthwise(node: Node): boolean {
  return (node.attribute ?? []).some((a) => a.name === 'group' && toNumber(a.i) > 1);
}

/**
 * Reads an ONNX model and finds what to quantise. Grouped (depthwise) convolutions stay in float:
 * measured on the PP-OCRv4 recogniser, quantising them made it no faster and doubled the
 * character errors it added (docs/performance.md). Throws INVALID_REQUEST when it is not an ONNX model.
 */
export function prepareModel(bytes: Uint8Array): PreparedModel {
  let model: Model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new VisionopsError('INVALID_REQUEST', `The file is not an ONNX model (${(error as Error).message}).`, {}, { cause: error });
  }
  if (!model.graph) throw new VisionopsError('INVALID_REQUEST', 'The ONNX model has no graph.');
  (model.graph.node ?? []).forEach((node, i) => {
    node.name ||= `node_${i}_${node.opType}`;
  });
  raiseToOpset10(model);
  const constants = floatConstants(model);
  const foldedBatchNorms = foldBatchNorms(model, constants);
  const fusedHardSwish = fuseHardSwish(model, constants);
  const targets = (model.graph.node ?? []).filter((node) => {
    if (node.opType !== 'Conv' && node.opType !== 'MatMul') return false;
    if (node.opType === 'Conv' && isDepthwise(node)) return false;
    const weight = constants.get(node.input?.[1] ?? '');
    return weight !== undefined && (node.opType === 'Conv' ? weight.dims.length === 4 : weight.dims.length === 2);
  });
  const activations = new Set<string>();
  for (const node of targets) {
    activations.add(node.input![0]);
    activations.add(node.output![0]);
  }
  return { model, targets, activations: [...activations], foldedBatchNorms, fusedHardSwish };
}

/** The model with every activation to calibrate added as a graph output, to run in float. */
export function calibrationModel(prepared: PreparedModel): Uint8Array {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(prepared.model).finish());
  const graph = copy.graph!;
  const existing = new Set((graph.output ?? []).map((output) => output.name));
  for (const name of prepared.activations) {
    if (!existing.has(name)) graph.output!.push({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
  }
  return onnx.ModelProto.encode(copy).finish();
}

/** uint8 asymmetric parameters covering [min, max] and always 0 (so zero padding stays exact). */
function activationParameters({ min, max }: ActivationRange): { scale: number; zeroPoint: number } {
  const low = Math.min(0, min);
  const high = Math.max(0, max);
  const scale = high - low > 0 ? (high - low) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-low / scale))) };
}

/**
 * Weights use 7 of int8's bits (-63..63), as onnxruntime's own quantiser does with reduce_range:
 * without VNNI, x86 multiplies uint8 by int8 with pmaddubsw, whose int16 sums of two products
 * saturate at full range (255 x 127 x 2 > 32767); measured here, 8-bit weights put the fused
 * kernels' outputs off by a tenth of their range.
 */
const WEIGHT_LEVELS = 63;

/** Symmetric int8 per slice along `axis` (0: Conv's output channels; 1: MatMul's columns), or one scale for all. */
function quantizeWeight(weight: FloatTensor, axis: 0 | 1, perChannel: boolean): { values: Int8Array; scales: Float32Array } {
  const channels = perChannel ? weight.dims[axis] : 1;
  const scales = new Float32Array(channels);
  const values = new Int8Array(weight.data.length);
  const channelOf = !perChannel ? () => 0 : axis === 0 ? (i: number) => Math.floor(i / (weight.data.length / channels)) : (i: number) => i % channels;
  for (let i = 0; i < weight.data.length; i++) scales[channelOf(i)] = Math.max(scales[channelOf(i)], Math.abs(weight.data[i]));
  for (let c = 0; c < channels; c++) scales[c] = scales[c] > 0 ? scales[c] / WEIGHT_LEVELS : 1;
  for (let i = 0; i < weight.data.length; i++) values[i] = Math.max(-WEIGHT_LEVELS, Math.min(WEIGHT_LEVELS, Math.round(weight.data[i] / scales[channelOf(i)])));
  return { values, scales };
}

function qdqNode(op: 'QuantizeLinear' | 'DequantizeLinear', name: string, inputs: string[], output: string, axis?: number): Node {
  const node: Node = { opType: op, domain: MS_DOMAIN, name, input: inputs, output: [output] };
  if (axis !== undefined) node.attribute = [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis }];
  return node;
}

/**
 * Rewrites the prepared model in QDQ form with the calibrated `ranges` (one per activation).
 * Throws INTERNAL when an activation has no range.
 */
export function quantizeQdq(prepared: PreparedModel, ranges: Map<string, ActivationRange>, options: { perChannel?: boolean } = {}): { bytes: Uint8Array; summary: QuantizationSummary } {
  const perChannel = options.perChannel ?? true;
  const model = onnx.ModelProto.decode(onnx.ModelProto.encode(prepared.model).finish());
  const graph = model.graph!;
  const constants = floatConstants(model);
  const targetNames = new Set(prepared.targets.map((node) => node.name));
  const initializers = [...(graph.initializer ?? [])];
  const parameters = new Map<string, { scale: number; zeroPoint: number }>();

  // Activations: producer -> T_fp32 -> Q -> DQ -> T, so every consumer reads the dequantised tensor.
  const after = new Map<Node | null, Node[]>();
  const graphInputs = new Set((graph.input ?? []).map((input) => input.name));
  const renamedInputs = new Map<string, string>();
  for (const name of prepared.activations) {
    const range = ranges.get(name);
    if (range === undefined) throw new VisionopsError('INTERNAL', `Activation ${name} was not calibrated.`);
    const p = activationParameters(range);
    parameters.set(name, p);
    initializers.push(floatTensor(`${name}_scale`, [], Float32Array.of(p.scale)), bytesTensor(`${name}_zero_point`, [], DataType.UINT8, Uint8Array.of(p.zeroPoint)));
    const producer = (graph.node ?? []).find((node) => node.output?.includes(name)) ?? null;
    const source = graphInputs.has(name) ? name : `${name}_fp32`;
    const target = graphInputs.has(name) ? `${name}_dq` : name;
    if (graphInputs.has(name)) renamedInputs.set(name, target);
    else producer!.output = producer!.output!.map((output) => (output === name ? source : output));
    const pair = [
      qdqNode('QuantizeLinear', `${name}_quantize`, [source, `${name}_scale`, `${name}_zero_point`], `${name}_q`),
      qdqNode('DequantizeLinear', `${name}_dequantize`, [`${name}_q`, `${name}_scale`, `${name}_zero_point`], target),
    ];
    after.set(producer, [...(after.get(producer) ?? []), ...pair]);
  }

  let convs = 0;
  let matmuls = 0;
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map((input) => renamedInputs.get(input) ?? input);
    if (!targetNames.has(node.name)) continue;
    const weightName = node.input[1];
    const weight = constants.get(weightName)!;
    const axis = node.opType === 'Conv' ? 0 : 1;
    const { values, scales } = quantizeWeight(weight, axis, perChannel);
    const base = `${node.name}_weight`;
    const scaleDims = perChannel ? [scales.length] : [];
    initializers.push(
      bytesTensor(`${base}_int8`, weight.dims, DataType.INT8, new Uint8Array(values.buffer)),
      floatTensor(`${base}_scale`, scaleDims, scales),
      bytesTensor(`${base}_zero_point`, scaleDims, DataType.INT8, new Uint8Array(scales.length)),
    );
    const extra = [qdqNode('DequantizeLinear', `${base}_dequantize`, [`${base}_int8`, `${base}_scale`, `${base}_zero_point`], `${base}_dq`, perChannel ? axis : undefined)];
    node.input[1] = `${base}_dq`;
    if (node.opType === 'Conv' && node.input[2]) {
      const bias = constants.get(node.input[2]);
      const inputScale = parameters.get(prepared.targets.find((t) => t.name === node.name)!.input![0])!.scale;
      if (bias !== undefined) {
        const biasScales = Float32Array.from(bias.data, (_, c) => scales[perChannel ? c : 0] * inputScale);
        const quantized = Int32Array.from(bias.data, (b, c) => Math.round(b / biasScales[c]));
        initializers.push(
          bytesTensor(`${node.name}_bias_int32`, [bias.data.length], DataType.INT32, new Uint8Array(quantized.buffer)),
          floatTensor(`${node.name}_bias_scale`, [biasScales.length], biasScales),
          bytesTensor(`${node.name}_bias_zero_point`, [biasScales.length], DataType.INT32, new Uint8Array(biasScales.length * 4)),
        );
        extra.push(qdqNode('DequantizeLinear', `${node.name}_bias_dequantize`, [`${node.name}_bias_int32`, `${node.name}_bias_scale`, `${node.name}_bias_zero_point`], `${node.name}_bias_dq`, 0));
        node.input[2] = `${node.name}_bias_dq`;
      }
    }
    after.set(null, [...(after.get(null) ?? []), ...extra]);
    if (node.opType === 'Conv') convs++;
    else matmuls++;
  }

  // Weights and graph-input pairs first, then each activation pair right after its producer: a topological order.
  const ordered: Node[] = [...(after.get(null) ?? [])];
  for (const node of graph.node ?? []) ordered.push(node, ...(after.get(node) ?? []));
  // The float weights now unused would only draw onnxruntime's warnings at every load.
  const used = new Set([...ordered.flatMap((node) => node.input ?? []), ...(graph.output ?? []).map((output) => output.name)]);
  graph.node = ordered.filter((node) => node.opType !== 'Constant' || (node.output ?? []).some((output) => used.has(output)));
  graph.initializer = initializers.filter((tensor) => used.has(tensor.name ?? ''));
  model.opsetImport = [...(model.opsetImport ?? []).filter((opset) => opset.domain !== MS_DOMAIN), { domain: MS_DOMAIN, version: 1 }];
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    summary: { quantizedConv: convs, quantizedMatMul: matmuls, activations: prepared.activations.length, foldedBatchNorms: prepared.foldedBatchNorms, fusedHardSwish: prepared.fusedHardSwish },
  };
}
