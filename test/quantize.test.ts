import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import sharp from 'sharp';
import { ctcGreedyDecode } from '../src/core/postprocess/ctc.js';
import { toTensor } from '../src/core/preprocess/tensor.js';
import { builtinManifests } from '../src/runtime/builtin.js';
import type { ModelManifest } from '../src/runtime/manifest.js';
import { calibrateRanges } from '../src/runtime/quantize/calibrate.js';
import { fuseHardSwish } from '../src/runtime/quantize/fuse-hard-swish.js';
import { decodeModel, encodeModel, type Model } from '../src/runtime/quantize/graph.js';
import { activationsToCalibrate, insertQdq, quantizeWeights } from '../src/runtime/quantize/qdq.js';
import { listRegistered, registeredModel, registerModel } from '../src/runtime/registry.js';
import type { TensorData } from '../src/runtime/session.js';
import { asJpeg, characterErrorRate, FONTS, randomLines, renderDocument } from './fixtures/documents.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'visionops-quantize-'));
let recognition: ModelManifest;
let floatModel: Model;
const lines = randomLines(31337, 14);
const crops: TensorData[] = [];

before(async () => {
  recognition = (await builtinManifests()).recognition;
  floatModel = decodeModel(readFileSync(recognition.path));
  for (const [i, line] of lines.entries()) {
    const png = await renderDocument({ lines: [line], font: FONTS[i % FONTS.length], fontSize: 26 + (i % 3) * 6, width: 900 });
    const { data, info } = await sharp(png).trim().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    crops.push(toTensor({ width: info.width, height: info.height, channels: 3, data }, recognition.preprocess));
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function read(session: InferenceSession, crop: TensorData): Promise<string> {
  const outputs = await session.run({ x: new OrtTensor('float32', crop.data, crop.dims) });
  const probs = outputs[recognition.outputs[0].name];
  return ctcGreedyDecode(probs.data as Float32Array, probs.dims[1], probs.dims[2], recognition.labels!).text;
}

test('per-channel int8 weights: each channel keeps its own precision', () => {
  const small = [0.001, -0.002, 0.0015, 0.0005];
  const large = [10, -20, 15, 5];
  const values = Float32Array.from([...small, ...large]);
  const { quantized, scales } = quantizeWeights(values, [2, 4], 0);
  assert.equal(scales.length, 2);
  assert.ok(Math.abs(scales[0] - 0.002 / 127) < 1e-9);
  for (let i = 0; i < values.length; i++) {
    const restored = quantized[i] * scales[Math.floor(i / 4)];
    assert.ok(Math.abs(restored - values[i]) <= scales[Math.floor(i / 4)] / 2 + 1e-9, `weight ${i}: ${values[i]} came back as ${restored}`);
  }
});

test('the hard-swish rewrite changes the recogniser’s graph, not what it computes', async () => {
  const rewritten = decodeModel(encodeModel(floatModel));
  assert.equal(fuseHardSwish(rewritten), 28);
  assert.equal(rewritten.graph!.node!.filter((n) => n.opType === 'Clip').length, 0);
  const [original, fused] = await Promise.all([InferenceSession.create(readFileSync(recognition.path)), InferenceSession.create(encodeModel(rewritten))]);
  const feeds = { x: new OrtTensor('float32', crops[0].data, crops[0].dims) };
  const a = (await original.run(feeds))[recognition.outputs[0].name].data as Float32Array;
  const b = (await fused.run(feeds))[recognition.outputs[0].name].data as Float32Array;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst < 1e-4, `outputs differ by up to ${worst}`);
  await Promise.all([original.release(), fused.release()]);
});

test('QDQ quantisation of the recogniser: onnxruntime fuses it into integer kernels and it reads held-back lines as the float model does', async () => {
  const calibration = crops.slice(0, 8).map((crop) => ({ x: crop }));
  const ranges = await calibrateRanges(floatModel, activationsToCalibrate(floatModel), calibration);
  const { model, quantizedNodes } = insertQdq(floatModel, ranges);
  assert.ok(quantizedNodes >= 45, `only ${quantizedNodes} nodes quantised`);
  const optimized = join(dir, 'optimized.onnx');
  const int8 = await InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
  const fusedOps = decodeModel(readFileSync(optimized)).graph!.node!.map((n) => n.opType);
  assert.ok(fusedOps.filter((op) => op === 'QLinearConv').length >= 30, 'onnxruntime did not turn the QDQ convolutions into QLinearConv');
  assert.ok(fusedOps.includes('QLinearMatMul'));

  const float = await InferenceSession.create(readFileSync(recognition.path));
  let errors = 0;
  let characters = 0;
  for (const crop of crops.slice(8)) {
    const reference = await read(float, crop);
    errors += characterErrorRate(reference, await read(int8, crop)) * reference.length;
    characters += reference.length;
  }
  assert.ok(errors / characters <= 0.02, `int8 differs from float on ${((100 * errors) / characters).toFixed(2)}% of characters`);
  await Promise.all([float.release(), int8.release()]);
});

test('the registry keeps each version once, with its parent, and names what it has when asked for what it lacks', async () => {
  const data = join(dir, 'registry');
  const { path: _path, sha256: _sha, ...rest } = recognition;
  const weights = Uint8Array.from([1, 2, 3, 4]);
  const manifest = { ...rest, version: '9.9.9-int8', parent: { id: recognition.id, version: recognition.version, sha256: recognition.sha256 } };
  const registered = await registerModel(data, manifest, weights);
  assert.equal(registered.sha256, '9f64a747e1b97f131fabb6b447296c9b6f0201e79fb3c5356e6c77e89b6a806a');
  assert.deepEqual(readFileSync(registered.path), Buffer.from(weights));
  assert.deepEqual((await registeredModel(data, `${recognition.id}@9.9.9-int8`)).parent, manifest.parent);
  assert.equal((await registerModel(data, manifest, weights)).sha256, registered.sha256);
  await assert.rejects(registerModel(data, manifest, Uint8Array.from([5])), (error: { code?: string }) => error.code === 'INVALID_REQUEST');
  assert.deepEqual(await listRegistered(data), [`${recognition.id}@9.9.9-int8`]);
  await assert.rejects(registeredModel(data, 'nope@1'), (error: { code?: string; message: string }) => error.code === 'MODEL_NOT_FOUND' && error.message.includes('9.9.9-int8'));
});

function visionops(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('visionops quantize recognition --calibrate <pages> registers an int8 version and reports its speed and accuracy cost', async () => {
  const pages = join(dir, 'pages');
  mkdirSync(pages);
  for (let i = 0; i < 5; i++) {
    const png = await renderDocument({ lines: randomLines(700 + i, 3), font: FONTS[i % FONTS.length], fontSize: 28, width: 900 });
    writeFileSync(join(pages, `page-${i}.jpg`), await asJpeg(png, 85));
  }
  const data = join(dir, 'cli-data');
  const out = join(dir, 'rec-int8.onnx');
  const run = await visionops('quantize', 'recognition', '--calibrate', pages, '--data', data, '--out', out, '--max-inputs', '6');
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(report.calibrationInputs, 6);
  assert.equal(report.heldBackInputs, 3);
  assert.ok(report.speedup > 0 && report.errorRate <= 0.05, run.stdout);
  const registered = await registeredModel(data, report.model);
  assert.equal(registered.parent?.sha256, recognition.sha256);
  assert.deepEqual(readFileSync(out), readFileSync(registered.path));

  const refused = await visionops('quantize', 'orientation', '--calibrate', pages, '--data', data);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /INVALID_REQUEST/);
});
