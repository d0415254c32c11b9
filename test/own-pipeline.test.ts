import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isVisionopsError } from '../src/core/errors.js';
import type { Frame } from '../src/core/frame.js';
import { boxToFrame } from '../src/core/postprocess/detection.js';
import type { Box } from '../src/core/postprocess/nms.js';
import { toTensor } from '../src/core/preprocess/tensor.js';
import type { ClassificationResult, DetectionResult } from '../src/core/records/prediction.js';
import { StageClock } from '../src/pipeline/clock.js';
import { loadOwnPipeline, type OwnPipeline } from '../src/pipeline/own/own-pipeline.js';
import { preprocessSpecOf, parseUserManifest } from '../src/pipeline/own/manifest.js';
import { readManifestFile } from '../src/pipeline/own/read-manifest.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import { seededRandom } from './fixtures/documents.js';
import { constantOutputsModel, type ConstantOutput } from './fixtures/onnx-models.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-own-pipeline-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const runtime = runtimeConfigSchema.parse({ workers: 0 });

function greyFrame(width: number, height: number): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 251;
  return { width, height, channels: 3, data };
}

/** A manifest and its constant-output model written into their own folder. */
function writeModel(name: string, manifest: Record<string, unknown>, input: { name: string; dims: number[] }, outputs: ConstantOutput[], files: Record<string, string> = {}): string {
  const folder = join(dir, name);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'model.onnx'), constantOutputsModel(input, outputs));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, file), text);
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ name, model: 'model.onnx', ...manifest }));
  return join(folder, 'manifest.json');
}


async function run<R extends ClassificationResult | DetectionResult>(manifestPath: string, frame: Frame): Promise<R> {
  const pipeline = (await loadOwnPipeline(await readManifestFile(manifestPath), runtime, { name: 'test' })) as unknown as OwnPipeline<R>;
  try {
    return await pipeline.run(frame, { exifOrientation: 1, clock: new StageClock(), listener: {} });
  } finally {
    await pipeline.close();
  }
}

test('classification: softmax over the logits, top k best first; sigmoid with labels from a file', async () => {
  const input = { name: 'x', dims: [1, 3, 8, 8] };
  const logits = [{ name: 'logits', dims: [1, 3], values: [1, 3, 2] }];
  const softmax = writeModel('cls-softmax', { task: 'classification', input: { width: 8, height: 8 }, output: { decode: 'softmax', labels: ['ok', 'scratch', 'dent'], topK: 2 } }, input, logits);
  const result = await run<ClassificationResult>(softmax, greyFrame(20, 10));
  const total = Math.exp(1) + Math.exp(3) + Math.exp(2);
  assert.deepEqual(result.labels.map((l) => l.label), ['scratch', 'dent']);
  assert.ok(Math.abs(result.labels[0].score - Math.exp(3) / total) < 1e-6);
  const sigmoid = writeModel('cls-sigmoid', { task: 'classification', input: { width: 8, height: 8 }, output: { decode: 'sigmoid', labelsFile: 'labels.txt' } }, input, logits, { 'labels.txt': 'ok\nscratch\n\ndent\n' });
  const multi = await run<ClassificationResult>(sigmoid, greyFrame(8, 8));
  assert.deepEqual(multi.labels.map((l) => [l.label, Number(l.score.toFixed(4))]), [['scratch', 0.9526], ['dent', 0.8808], ['ok', 0.7311]]);
});

test('YOLOv5 through the pipeline: objectness times class score, NMS, boxes out of the letterbox into original pixels', async () => {
  // Rows: cx, cy, w, h (64 x 64 input pixels), objectness, then 2 class scores.
  const rows = [
    [32, 32, 16, 16, 0.9, 0.1, 0.9], // b at input [24, 24, 40, 40]
    [33, 32, 16, 16, 0.8, 0.1, 0.9], // same class, IoU 0.88: suppressed
    [33, 32, 16, 16, 0.8, 0.9, 0.1], // other class: kept
    [10, 10, 4, 4, 0.2, 1, 0], // objectness under the threshold
  ];
  const manifest = writeModel(
    'yolov5',
    { task: 'detection', input: { width: 64, height: 64, resize: 'letterbox' }, output: { decode: 'yolov5', labels: ['a', 'b'], scoreThreshold: 0.25, iou: 0.45 } },
    { name: 'images', dims: [1, 3, 64, 64] },
    [{ name: 'output0', dims: [1, 4, 7], values: rows.flat() }],
  );
  // 128 x 64 letterboxes at ratio 0.5 with 16 rows of padding above: input y 24 is frame y (24 - 16) / 0.5 = 16.
  const { boxes } = await run<DetectionResult>(manifest, greyFrame(128, 64));
  assert.deepEqual(
    boxes.map((b) => [b.label, Number(b.score.toFixed(2)), b.box]),
    [
      ['b', 0.81, [48, 16, 80, 48]],
      ['a', 0.72, [50, 16, 82, 48]],
    ],
  );
});

test('YOLOv8 through the pipeline: [1, 4 + C, N], class-aware NMS, at most maxDetections', async () => {
  const anchors = [
    [20, 20, 10, 10, 0.9, 0],
    [21, 20, 10, 10, 0.8, 0],
    [21, 20, 10, 10, 0, 0.7],
    [50, 50, 8, 8, 0.6, 0],
  ];
  const values = [0, 1, 2, 3, 4, 5].flatMap((f) => anchors.map((a) => a[f]));
  const write = (maxDetections: number) =>
    writeModel(
      `yolov8-${maxDetections}`,
      { task: 'detection', input: { width: 64, height: 64, resize: 'stretch' }, output: { decode: 'yolov8', labels: ['a', 'b'], scoreThreshold: 0.5, maxDetections } },
      { name: 'images', dims: [1, 3, 64, 64] },
      [{ name: 'output0', dims: [1, 6, 4], values }],
    );
  // A 64 x 64 frame stretched to 64 x 64: boxes stay in place.
  const all = await run<DetectionResult>(write(10), greyFrame(64, 64));
  assert.deepEqual(all.boxes.map((b) => [b.label, b.box]), [['a', [15, 15, 25, 25]], ['b', [16, 15, 26, 25]], ['a', [46, 46, 54, 54]]]);
  const capped = await run<DetectionResult>(write(2), greyFrame(64, 64));
  assert.equal(capped.boxes.length, 2);
});

test('generic boxes / scores / classes through the pipeline: normalised xyxy boxes, stretched back per axis', async () => {
  const manifest = writeModel(
    'generic',
    {
      task: 'detection',
      input: { width: 100, height: 50 },
      output: { decode: 'generic', labels: ['cat', 'dog'], outputs: { boxes: 'boxes', scores: 'scores', classes: 'classes' }, boxFormat: 'xyxy', normalized: true, scoreThreshold: 0.3 },
    },
    { name: 'input', dims: [1, 3, 50, 100] },
    [
      { name: 'boxes', dims: [1, 2, 4], values: [0.1, 0.2, 0.5, 0.6, 0, 0, 1, 1] },
      { name: 'scores', dims: [1, 2], values: [0.8, 0.1] },
      { name: 'classes', dims: [1, 2], values: [1, 0] },
    ],
  );
  // Input pixels [10, 10, 50, 30]; the 200 x 200 frame was stretched by 0.5 across and 0.25 down.
  const { boxes } = await run<DetectionResult>(manifest, greyFrame(200, 200));
  // The boxes come out of float32 tensors: compared to 4 decimals.
  assert.deepEqual(boxes.map((b) => ({ ...b, box: b.box.map((v) => Number(v.toFixed(4))) })), [{ label: 'dog', score: boxes[0].score, box: [20, 40, 100, 120] }]);
  assert.ok(Math.abs(boxes[0].score - 0.8) < 1e-6);
});

test('a manifest whose model, input or output does not exist says which key to fix', async () => {
  const base = { task: 'classification', input: { width: 8, height: 8 }, output: { labels: ['a', 'b'] } };
  const input = { name: 'x', dims: [1, 3, 8, 8] };
  const outputs = [{ name: 'y', dims: [1, 2], values: [0, 1] }];
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ ...base, model: 'missing.onnx' }, 'MODEL_NOT_FOUND', /relative to the manifest's folder/],
    [{ ...base, input: { ...base.input, name: 'pixels' } }, 'MODEL_LOAD_FAILED', /no input "pixels".*its inputs are x/],
    [{ ...base, output: { ...base.output, name: 'probs' } }, 'MODEL_LOAD_FAILED', /no output "probs".*its outputs are y/],
  ];
  for (const [manifest, code, message] of cases) {
    const path = writeModel('broken', manifest, input, outputs);
    await assert.rejects(readManifestFile(path), (error) => isVisionopsError(error) && error.code === code && message.test(error.message), code);
  }
});

test('letterbox round trip: a box in the frame, carried into the tensor by the placement, comes back where it was', () => {
  const random = seededRandom(16);
  const spec = preprocessSpecOf(parseUserManifest({ name: 'y', task: 'detection', model: 'm', input: { width: 640, height: 640, resize: 'letterbox' }, output: { decode: 'yolov8', labels: ['a'] } }, 'm'));
  for (let i = 0; i < 25; i++) {
    const width = 20 + Math.floor(random() * 300);
    const height = 20 + Math.floor(random() * 300);
    const { placement, dims } = toTensor(greyFrame(width, height), spec);
    assert.deepEqual(dims, [1, 3, 640, 640]);
    const x1 = random() * width * 0.8;
    const y1 = random() * height * 0.8;
    const box: Box = [x1, y1, x1 + random() * (width - x1), y1 + random() * (height - y1)];
    const inTensor: Box = [box[0] * placement.scaleX + placement.offsetX, box[1] * placement.scaleY + placement.offsetY, box[2] * placement.scaleX + placement.offsetX, box[3] * placement.scaleY + placement.offsetY];
    for (const [i2, value] of inTensor.entries()) assert.ok(value >= 0 && value <= 640, `${width}x${height} coordinate ${i2} lands in the tensor`);
    const back = boxToFrame(inTensor, placement, width, height);
    back.forEach((value, k) => assert.ok(Math.abs(value - box[k]) < 1e-9, `${width}x${height}: ${back} against ${box}`));
  }
});
