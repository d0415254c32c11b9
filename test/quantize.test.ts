import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import onnxProto from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { calibrationModel, prepareModel, quantizeQdq, type ActivationRange } from '../src/quantize/qdq.js';
import { boxAgreement } from '../src/quantize/quantize.js';
import { seededRandom } from './fixtures/documents.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INTS = onnx.AttributeProto.AttributeType.INTS;
const dir = mkdtempSync(join(tmpdir(), 'visionops-quantize-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function constant(name: string, dims: number[], values: number[]): onnxProto.onnx.INodeProto {
  const data = Float32Array.from(values);
  return {
    opType: 'Constant',
    name: `${name}_constant`,
    output: [name],
    attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer) } }],
  };
}

function randomValues(count: number, seed: number, scale = 1): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => (random() * 2 - 1) * scale);
}

/**
 * An opset 9 graph shaped like the PaddleOCR models: weights in Constant nodes, Conv -> BatchNorm
 * -> hard-swish, a Slice with attributes (changed at opset 10), pooling, then a MatMul with a constant weight.
 */
function tinyModel(): Uint8Array {
  const nodes: onnxProto.onnx.INodeProto[] = [
    constant('w', [4, 3, 3, 3], randomValues(108, 1, 0.5)),
    constant('b', [4], randomValues(4, 2, 0.1)),
    constant('gamma', [4], [1, 0.5, 2, 1.5]),
    constant('beta', [4], [0.1, -0.1, 0, 0.2]),
    constant('mean', [4], [0.05, 0, -0.05, 0.1]),
    constant('var', [4], [1, 0.5, 2, 1]),
    constant('m', [4, 5], randomValues(20, 3)),
    constant('three', [], [3]),
    constant('six', [], [6]),
    { opType: 'Conv', name: 'conv', input: ['x', 'w', 'b'], output: ['c'], attribute: [{ name: 'pads', type: INTS, ints: [1, 1, 1, 1] }] },
    { opType: 'BatchNormalization', name: 'bn', input: ['c', 'gamma', 'beta', 'mean', 'var'], output: ['n'] },
    // Hard-swish as Paddle exports it: x * clip(x + 3, 0, 6) / 6.
    { opType: 'Add', name: 'add3', input: ['n', 'three'], output: ['n3'] },
    {
      opType: 'Clip',
      name: 'clip',
      input: ['n3'],
      output: ['k'],
      attribute: [
        { name: 'min', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0 },
        { name: 'max', type: onnx.AttributeProto.AttributeType.FLOAT, f: 6 },
      ],
    },
    { opType: 'Mul', name: 'mul', input: ['n', 'k'], output: ['nk'] },
    { opType: 'Div', name: 'div6', input: ['nk', 'six'], output: ['r'] },
    {
      opType: 'Slice',
      name: 'slice',
      input: ['r'],
      output: ['s'],
      attribute: [
        { name: 'starts', type: INTS, ints: [0] },
        { name: 'ends', type: INTS, ints: [4] },
        { name: 'axes', type: INTS, ints: [1] },
      ],
    },
    { opType: 'GlobalAveragePool', name: 'pool', input: ['s'], output: ['p'] },
    { opType: 'Flatten', name: 'flatten', input: ['p'], output: ['f'] },
    { opType: 'MatMul', name: 'matmul', input: ['f', 'm'], output: ['y'] },
  ];
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 9 }],
    graph: {
      name: 'tiny',
      node: nodes,
      input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 3 }, { dimValue: 8 }, { dimValue: 8 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: FLOAT } } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

const input = (seed: number) => ({ x: new Tensor('float32', Float32Array.from(randomValues(192, seed, 2)), [1, 3, 8, 8]) });

test('a Conv and a MatMul with constant weights are quantised to QDQ that onnxruntime fuses into integer kernels, close to float', async () => {
  const bytes = tinyModel();
  const prepared = prepareModel(bytes);
  assert.deepEqual(prepared.targets.map((node) => node.opType), ['Conv', 'MatMul']);
  assert.equal(prepared.foldedBatchNorms, 1);
  assert.equal(prepared.fusedHardSwish, 1);

  const calibration = await InferenceSession.create(calibrationModel(prepared));
  const ranges = new Map<string, ActivationRange>();
  for (let seed = 10; seed < 20; seed++) {
    const outputs = await calibration.run(input(seed));
    for (const name of prepared.activations) {
      const data = outputs[name].data as Float32Array;
      const seen = ranges.get(name) ?? { min: Infinity, max: -Infinity };
      ranges.set(name, { min: Math.min(seen.min, ...data), max: Math.max(seen.max, ...data) });
    }
  }
  const { bytes: int8, summary } = quantizeQdq(prepared, ranges);
  assert.deepEqual(summary, { quantizedConv: 1, quantizedMatMul: 1, activations: prepared.activations.length, foldedBatchNorms: 1, fusedHardSwish: 1 });

  const optimized = join(dir, 'optimized.onnx');
  const quantized = await InferenceSession.create(int8, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
  const ops = onnx.ModelProto.decode(readFileSync(optimized)).graph!.node!.map((node) => node.opType);
  assert.ok(ops.includes('QLinearConv'), `fused: ${ops.join(', ')}`);
  assert.ok(!ops.includes('Conv'), 'no float Conv is left');

  const float = await InferenceSession.create(bytes);
  const probe = input(99);
  const rewritten = await InferenceSession.create(onnx.ModelProto.encode(prepared.model).finish());
  const folded = (await rewritten.run(probe)).y.data as Float32Array;
  const reference = (await float.run(probe)).y.data as Float32Array;
  folded.forEach((value, i) => assert.ok(Math.abs(value - reference[i]) < 1e-4, `folding and fusing change nothing: ${value} vs ${reference[i]}`));
  const expected = (await float.run(probe)).y.data as Float32Array;
  const actual = (await quantized.run(probe)).y.data as Float32Array;
  const scale = Math.max(...expected.map(Math.abs));
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < 0.05 * scale, `output ${i}: ${actual[i]} vs ${expected[i]}`);
});

test('a file that is not ONNX is refused as such', () => {
  assert.throws(() => prepareModel(Uint8Array.from([1, 2, 3, 4, 5, 250, 251])), { code: 'INVALID_REQUEST' });
});

test('box agreement counts the boxes both find, each matched once', () => {
  const box = (x: number, y: number): [number, number][] => [
    [x, y],
    [x + 100, y],
    [x + 100, y + 20],
    [x, y + 20],
  ];
  const a = [box(0, 0), box(0, 40)] as never;
  assert.equal(boxAgreement(a, a), 1);
  assert.equal(boxAgreement(a, [box(2, 1)] as never), 2 / 3);
  assert.equal(boxAgreement(a, [box(500, 500)] as never), 0);
  assert.equal(boxAgreement([], []), 1);
});
