import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVisionopsError } from '../src/core/errors.js';
import type { Frame } from '../src/core/frame.js';
import { rankClasses, sigmoid, softmax } from '../src/core/postprocess/classification.js';
import { decodeBoxesScoresClasses, decodeYoloV5, decodeYoloV8, detectionsToFrame, type DetectionOptions } from '../src/core/postprocess/detection.js';
import { intersectionOverUnion, nonMaxSuppression, type Box, type Detection } from '../src/core/postprocess/nms.js';
import type { PreprocessSpec } from '../src/core/preprocess/spec.js';
import { toTensor } from '../src/core/preprocess/tensor.js';

const close = (actual: number, expected: number, message?: string) => assert.ok(Math.abs(actual - expected) < 1e-6, `${actual} vs ${expected} ${message ?? ''}`);

function closeBox(actual: Box, expected: Box, message?: string): void {
  actual.forEach((value, i) => close(value, expected[i], message));
}

// --- classification ------------------------------------------------------------------------------

test('softmax sums to one, matches the closed form and survives huge logits', () => {
  const probabilities = softmax([1, 2, 3]);
  [0.09003057, 0.24472847, 0.66524096].forEach((p, i) => close(probabilities[i], p));
  const huge = softmax([1000, 1001]);
  close(huge[0] + huge[1], 1);
  close(huge[1], 0.73105858);
  assert.deepEqual(Array.from(sigmoid([0])), [0.5]);
  close(sigmoid([2])[0], 0.88079708);
});

test('rankClasses gives the top k, best first, after the activation', () => {
  const labels = ['ok', 'scratch', 'dent', 'stain'];
  const ranked = rankClasses([0.5, 3, -1, 2], labels, 'softmax', 2);
  assert.deepEqual(ranked.map((r) => [r.label, r.index]), [['scratch', 1], ['stain', 3]]);
  close(ranked[0].score, Math.exp(3) / (Math.exp(0.5) + Math.exp(3) + Math.exp(-1) + Math.exp(2)));
  // Multi-label: each class on its own; the scores need not sum to one.
  const multi = rankClasses([2, 2, -3, 0], labels, 'sigmoid');
  assert.deepEqual(multi.map((r) => r.label), ['ok', 'scratch', 'stain', 'dent']);
  close(multi[0].score, 0.88079708);
  assert.deepEqual(rankClasses([0.1, 0.7, 0.2, 0], labels, 'none', 1), [{ label: 'scratch', index: 1, score: 0.7 }]);
  assert.deepEqual(rankClasses(new Float32Array([0.25, 0.75]), ['0', '180'], 'none').map((r) => r.score), [0.75, 0.25]);
});

test('rankClasses refuses a label list that does not match the outputs', () => {
  assert.throws(() => rankClasses([1, 2, 3], ['a', 'b'], 'softmax'), (error) => isVisionopsError(error) && error.code === 'INFERENCE_FAILED' && /3 scores for 2 labels/.test(error.message));
});

// --- NMS -----------------------------------------------------------------------------------------

function detection(classIndex: number, score: number, box: Box): Detection {
  return { label: `class${classIndex}`, classIndex, score, box };
}

test('intersectionOverUnion of overlapping, nested, touching and empty boxes', () => {
  close(intersectionOverUnion([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
  close(intersectionOverUnion([0, 0, 10, 10], [2, 2, 4, 4]), 4 / 100);
  assert.equal(intersectionOverUnion([0, 0, 10, 10], [10, 0, 20, 10]), 0);
  assert.equal(intersectionOverUnion([0, 0, 0, 0], [0, 0, 0, 0]), 0);
});

test('NMS is class-aware: only same-class boxes above the IoU threshold suppress each other', () => {
  const input = [
    detection(0, 0.6, [1, 0, 11, 10]), // IoU 0.818 with the next: suppressed
    detection(0, 0.9, [0, 0, 10, 10]),
    detection(1, 0.8, [0, 0, 10, 10]), // another class in the same place: kept
    detection(0, 0.7, [5, 0, 15, 10]), // IoU 1/3 with the best: kept at 0.45
    detection(0, 0.5, [100, 100, 110, 110]),
  ];
  const kept = nonMaxSuppression(input, 0.45);
  assert.deepEqual(kept.map((d) => [d.classIndex, d.score]), [[0, 0.9], [1, 0.8], [0, 0.7], [0, 0.5]]);
  // Boxes overlapping by exactly the threshold stay (torchvision drops only IoU > threshold).
  assert.equal(nonMaxSuppression(input, 1 / 3).length, 4);
  assert.equal(nonMaxSuppression(input, 0.3).length, 3);
  assert.deepEqual(nonMaxSuppression(input, 0.45, 2).map((d) => d.score), [0.9, 0.8]);
  assert.deepEqual(nonMaxSuppression([], 0.5), []);
});

// --- YOLO decoders -------------------------------------------------------------------------------

const OPTIONS: DetectionOptions = { labels: ['person', 'car'], scoreThreshold: 0.25, iouThreshold: 0.45 };

test('YOLOv5 multiplies objectness into the class scores and drops rows below the threshold', () => {
  // Rows: cx, cy, w, h, objectness, p(person), p(car).
  const rows = [
    [50, 50, 20, 40, 0.9, 0.1, 0.95], // car 0.855
    [52, 50, 20, 40, 0.8, 0.05, 0.9], // car 0.72, overlaps the first: suppressed
    [52, 50, 20, 40, 0.8, 0.6, 0.1], // person 0.48: another class, kept
    [200, 100, 10, 10, 0.2, 1, 1], // objectness 0.2 at or below 0.25: dropped before classes
    [300, 100, 10, 10, 0.5, 0.4, 0.3], // person 0.2 after objectness: dropped
  ];
  const output = { data: Float32Array.from(rows.flat()), dims: [1, rows.length, 7] };
  const detections = decodeYoloV5(output, OPTIONS);
  assert.deepEqual(detections.map((d) => d.label), ['car', 'person']);
  close(detections[0].score, 0.9 * 0.95);
  closeBox(detections[0].box, [40, 30, 60, 70]);
  close(detections[1].score, 0.8 * 0.6);
  assert.throws(() => decodeYoloV5({ data: new Float32Array(12), dims: [1, 2, 6] }, OPTIONS), /\[1, N, 7\] for 2 labels/);
});

/** A YOLOv8 output [1, 4 + C, N] from per-anchor rows [cx, cy, w, h, score per class]. */
function yoloV8(rows: number[][]): { data: Float32Array; dims: number[] } {
  const features = rows[0].length;
  const data = new Float32Array(features * rows.length);
  rows.forEach((row, a) => row.forEach((value, f) => (data[f * rows.length + a] = value)));
  return { data, dims: [1, features, rows.length] };
}

test('YOLOv8 reads [1, 4 + C, N] (and a transposed [1, N, 4 + C]) with the best class per anchor', () => {
  const rows = [
    [100, 80, 40, 20, 0.1, 0.88],
    [102, 81, 40, 20, 0.05, 0.7], // same car: suppressed
    [10, 10, 8, 8, 0.3, 0.29], // person 0.3
    [10, 10, 8, 8, 0.2, 0.25], // below threshold: car 0.25 is not above 0.25
  ];
  const detections = decodeYoloV8(yoloV8(rows), OPTIONS);
  assert.deepEqual(detections.map((d) => [d.label, d.score]), [['car', Math.fround(0.88)], ['person', Math.fround(0.3)]]);
  closeBox(detections[0].box, [80, 70, 120, 90]);
  const transposed = decodeYoloV8({ data: Float32Array.from(rows.flat()), dims: [1, 4, 6] }, OPTIONS);
  assert.deepEqual(transposed, detections);
  assert.throws(() => decodeYoloV8({ data: new Float32Array(35), dims: [1, 7, 5] }, OPTIONS), (error) => isVisionopsError(error) && /\[1, 6, N\] for 2 labels/.test(error.message));
  // 8400 anchors and 80 classes, all below the threshold: nothing, quickly.
  assert.deepEqual(decodeYoloV8({ data: new Float32Array(84 * 8400), dims: [1, 84, 8400] }, { ...OPTIONS, labels: Array.from({ length: 80 }, (_, i) => `c${i}`) }), []);
});

test('maxDetections caps the result as Ultralytics max_det does', () => {
  const rows = Array.from({ length: 10 }, (_, i) => [i * 100, 0, 10, 10, 0.9 - i * 0.01, 0]);
  assert.equal(decodeYoloV8(yoloV8(rows), { ...OPTIONS, maxDetections: 3 }).length, 3);
  assert.equal(decodeYoloV8(yoloV8(rows), OPTIONS).length, 10);
});

test('the generic layout reads xyxy with per-class scores, and normalised yxyx with a classes output', () => {
  const boxes = { data: Float32Array.from([0, 0, 10, 10, 1, 1, 11, 11, 50, 50, 60, 70]), dims: [1, 3, 4] };
  const perClass = { data: Float32Array.from([0.9, 0.1, 0.8, 0.1, 0.2, 0.6]), dims: [1, 3, 2] };
  const xyxy = decodeBoxesScoresClasses({ boxes, scores: perClass }, { boxFormat: 'xyxy' }, OPTIONS);
  assert.deepEqual(xyxy.map((d) => [d.label, d.box]), [['person', [0, 0, 10, 10]], ['car', [50, 50, 60, 70]]]);

  // TensorFlow's detection API: ymin, xmin, ymax, xmax in 0..1, scores and classes apart.
  const tfBoxes = { data: Float32Array.from([0.25, 0.5, 0.75, 1]), dims: [1, 1, 4] };
  const tf = decodeBoxesScoresClasses(
    { boxes: tfBoxes, scores: { data: [0.7], dims: [1, 1] }, classes: { data: [1], dims: [1, 1] } },
    { boxFormat: 'yxyx', normalized: { width: 640, height: 480 } },
    OPTIONS,
  );
  assert.deepEqual(tf, [{ label: 'car', classIndex: 1, score: 0.7, box: [320, 120, 640, 360] }]);

  const wh = decodeBoxesScoresClasses({ boxes: { data: [10, 20, 30, 40], dims: [1, 4] }, scores: { data: [0.5], dims: [1] } }, { boxFormat: 'xywh' }, { ...OPTIONS, labels: ['part'] });
  assert.deepEqual(wh[0].box, [10, 20, 40, 60]);
  const centre = decodeBoxesScoresClasses({ boxes: { data: [10, 20, 30, 40], dims: [1, 4] }, scores: { data: [0.5], dims: [1] } }, { boxFormat: 'cxcywh' }, { ...OPTIONS, labels: ['part'] });
  assert.deepEqual(centre[0].box, [-5, 0, 25, 40]);
});

test('the generic layout refuses outputs that do not fit the labels', () => {
  const boxes = { data: new Float32Array(8), dims: [1, 2, 4] };
  const refusals: [string, () => unknown, RegExp][] = [
    ['scores of another count', () => decodeBoxesScoresClasses({ boxes, scores: { data: new Float32Array(3), dims: [1, 3] } }, { boxFormat: 'xyxy' }, OPTIONS), /scores output/],
    ['one score per box without classes', () => decodeBoxesScoresClasses({ boxes, scores: { data: [0.9, 0.9], dims: [1, 2] } }, { boxFormat: 'xyxy' }, OPTIONS), /no classes output/],
    ['a class beyond the labels', () => decodeBoxesScoresClasses({ boxes, scores: { data: [0.9, 0.9], dims: [1, 2] }, classes: { data: [0, 5], dims: [1, 2] } }, { boxFormat: 'xyxy' }, OPTIONS), /class 5 but only 2 labels/],
    ['boxes of five numbers', () => decodeBoxesScoresClasses({ boxes: { data: new Float32Array(10), dims: [1, 2, 5] }, scores: { data: [0.9, 0.9], dims: [1, 2] } }, { boxFormat: 'xyxy' }, OPTIONS), /boxes output/],
  ];
  for (const [name, run, message] of refusals) {
    assert.throws(run, (error) => isVisionopsError(error) && error.code === 'INFERENCE_FAILED' && message.test(error.message), name);
  }
});

// --- end to end through the letterbox ------------------------------------------------------------

test('boxes a detector finds in the letterboxed tensor come back in original pixels', () => {
  const frame: Frame = { width: 1280, height: 720, channels: 3, data: new Uint8Array(1280 * 720 * 3) };
  const spec: PreprocessSpec = { resize: { mode: 'letterbox', width: 640, height: 640 }, interpolation: 'opencv-linear', channelOrder: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], layout: 'nchw' };
  const { placement, dims } = toTensor(frame, spec);
  assert.deepEqual(dims, [1, 3, 640, 640]);
  const truth: [number, Box][] = [
    [0, [100, 200, 300, 700]],
    [1, [640, 360, 1280, 720]],
  ];
  // What a perfect detector would output: centre and size in tensor pixels.
  const rows = truth.map(([classIndex, [x1, y1, x2, y2]]) => {
    const tx1 = x1 * placement.scaleX + placement.offsetX;
    const ty1 = y1 * placement.scaleY + placement.offsetY;
    const tx2 = x2 * placement.scaleX + placement.offsetX;
    const ty2 = y2 * placement.scaleY + placement.offsetY;
    return [(tx1 + tx2) / 2, (ty1 + ty2) / 2, tx2 - tx1, ty2 - ty1, classIndex === 0 ? 0.9 : 0, classIndex === 1 ? 0.8 : 0];
  });
  const detections = detectionsToFrame(decodeYoloV8(yoloV8(rows), OPTIONS), placement, frame.width, frame.height);
  assert.deepEqual(detections.map((d) => d.label), ['person', 'car']);
  detections.forEach((d, i) => closeBox(d.box, truth[i][1], d.label));
});
