import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { decideClassification, decideDetection, MODEL_REASON_CODES } from '../src/core/decision/model.js';
import { isVisionopsError } from '../src/core/errors.js';
import type { QualityReport } from '../src/core/quality/types.js';
import { oneLevel, parseUserManifest, preprocessSpecOf } from '../src/pipeline/own/manifest.js';

/** The manifest of the contract, as a user writes it. */
const CONTRACT = {
  name: 'line-orientation',
  task: 'classification',
  model: 'models/cls.onnx',
  input: { width: 192, height: 48, layout: 'NCHW', colors: 'RGB', resize: 'stretch', interpolation: 'bilinear', antialias: true, scale: 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  output: { decode: 'softmax', labels: ['0', '180'] },
  decision: { acceptAbove: 0.9, rejectBelow: 0.3 },
};

function problemsOf(value: unknown): { key: string; problem: string }[] {
  try {
    parseUserManifest(value, 'manifest.json');
  } catch (error) {
    assert.ok(isVisionopsError(error) && error.code === 'INVALID_CONFIG', String(error));
    return (error.details as { problems: { key: string; problem: string }[] }).problems;
  }
  assert.fail('the manifest was accepted');
}

test('the contract manifest is accepted as written, with keys of its own kept, and becomes the PIL-bilinear spec', () => {
  const manifest = parseUserManifest({ ...CONTRACT, trainedOn: 'run 42', input: { ...CONTRACT.input, note: 'x' } }, 'manifest.json');
  assert.equal((manifest as unknown as { trainedOn: string }).trainedOn, 'run 42');
  assert.deepEqual(preprocessSpecOf(manifest), {
    resize: { mode: 'fixed', width: 192, height: 48 },
    interpolation: 'pil-bilinear',
    channelOrder: 'rgb',
    scale: 1 / 255,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    layout: 'nchw',
  });
});

test('resize, interpolation and layout map onto the preprocessing spec', () => {
  const detection = parseUserManifest(
    { name: 'yolo', task: 'detection', model: 'm.onnx', input: { width: 640, height: 640, resize: 'letterbox', layout: 'NHWC', colors: 'BGR' }, output: { decode: 'yolov8', labels: ['a'] } },
    'manifest.json',
  );
  const spec = preprocessSpecOf(detection);
  assert.deepEqual(spec.resize, { mode: 'letterbox', width: 640, height: 640, padValue: 114, scaleUp: true });
  assert.equal(spec.interpolation, 'opencv-linear');
  assert.equal(spec.layout, 'nhwc');
  assert.equal(spec.channelOrder, 'bgr');
  assert.equal(detection.task === 'detection' && detection.output.scoreThreshold, 0.25);
  const crop = preprocessSpecOf(parseUserManifest({ ...CONTRACT, input: { width: 224, height: 224, resize: 'shorter-side', shorterSide: 256, interpolation: 'bicubic' } }, 'm'));
  assert.deepEqual(crop.resize, { mode: 'shorter-side', size: 256, crop: { width: 224, height: 224 } });
  assert.equal(crop.interpolation, 'pil-bicubic');
  for (const [interpolation, expected] of [['area', 'opencv-area'], ['nearest', 'opencv-nearest'], ['pil-bilinear', 'pil-bilinear']] as const) {
    assert.equal(preprocessSpecOf(parseUserManifest({ ...CONTRACT, input: { ...CONTRACT.input, interpolation, antialias: undefined } }, 'm')).interpolation, expected);
  }
  // One level of 255 through the largest gain: (1 / 255) / 0.5.
  assert.equal(oneLevel(preprocessSpecOf(parseUserManifest(CONTRACT, 'm'))), 2 / 255);
});

test('validation errors name the key at fault', () => {
  const cases: [unknown, string, RegExp][] = [
    [{ ...CONTRACT, input: { ...CONTRACT.input, width: -3 } }, 'input.width', /expected number to be >0/],
    [{ ...CONTRACT, input: { ...CONTRACT.input, layout: 'CHW' } }, 'input.layout', /NCHW|NHWC/],
    [{ ...CONTRACT, input: { ...CONTRACT.input, mean: [0.5, 0.5] } }, 'input.mean', /./],
    [{ ...CONTRACT, output: { decode: 'argmax', labels: ['a'] } }, 'output.decode', /softmax/],
    [{ ...CONTRACT, output: { decode: 'softmax' } }, 'output.labels', /labelsFile/],
    [{ ...CONTRACT, decision: { acceptAbove: 0.5, rejectBelow: 0.7 } }, 'decision.rejectBelow', /must not exceed/],
    [{ ...CONTRACT, task: 'segmentation' }, 'task', /classification|detection/],
    [{ ...CONTRACT, name: 'Line Orientation' }, 'name', /lowercase/],
    [{ ...CONTRACT, model: undefined }, 'model', /./],
    [{ name: 'd', task: 'detection', model: 'm.onnx', input: { width: 64, height: 64 }, output: { decode: 'generic', labels: ['a'] } }, 'output.outputs', /boxes/],
  ];
  for (const [value, key, problem] of cases) {
    const problems = problemsOf(value);
    const found = problems.find((p) => p.key === key);
    assert.ok(found, `${key} not named in ${JSON.stringify(problems)}`);
    assert.match(found.problem, problem, key);
  }
});

test('a configured classification or detection pipeline must name its manifest', () => {
  assert.throws(
    () => loadConfig({ sets: ['pipelines=[{"name":"defects","task":"classification"}]'] }),
    (error) => isVisionopsError(error) && error.code === 'INVALID_CONFIG' && /pipelines\.0\.manifest/.test(error.message),
  );
  const config = loadConfig({ sets: ['pipelines=[{"name":"defects","task":"classification","manifest":"m.json"}]'] });
  assert.equal(config.pipelines[0].manifest, 'm.json');
});

const passed: QualityReport = { verdict: 'pass', checks: [], guidance: [] };
const failed: QualityReport = {
  verdict: 'fail',
  checks: [{ name: 'blur', verdict: 'fail', score: 0.1, threshold: 0.3, guidance: 'Hold the camera still.' } as QualityReport['checks'][number]],
  guidance: ['Hold the camera still.'],
};
const RULE = { acceptAbove: 0.9, rejectBelow: 0.3, alwaysReview: ['crack'] };

test('classification decisions: accept above, review between, reject below, some labels always reviewed, the gate first', () => {
  const labels = (label: string, score: number) => ({ labels: [{ label, score }] });
  assert.deepEqual(decideClassification(passed, labels('ok', 0.95), RULE), { decision: 'accept', reasons: [] });
  const between = decideClassification(passed, labels('ok', 0.6), RULE);
  assert.equal(between.decision, 'review');
  assert.deepEqual(between.reasons.map((r) => r.code), [MODEL_REASON_CODES.lowConfidence]);
  const below = decideClassification(passed, labels('ok', 0.2), RULE);
  assert.equal(below.decision, 'reject');
  assert.deepEqual(below.reasons.map((r) => r.code), ['BELOW_REJECT_THRESHOLD']);
  const crack = decideClassification(passed, labels('crack', 0.99), RULE);
  assert.equal(crack.decision, 'review');
  assert.deepEqual(crack.reasons.map((r) => r.code), ['REVIEW_LABEL']);
  const gate = decideClassification(failed, null, RULE);
  assert.equal(gate.decision, 'reject');
  assert.deepEqual(gate.reasons.map((r) => r.code), ['QUALITY_FAILED:blur']);
});

test('detection decisions: every box judged, an empty image accepted with NO_OBJECTS unless reviewEmpty', () => {
  const box = (label: string, score: number) => ({ label, score, box: [0, 0, 10, 10] as [number, number, number, number] });
  assert.equal(decideDetection(passed, { boxes: [box('dent', 0.95), box('dent', 0.92)] }, RULE).decision, 'accept');
  const unsure = decideDetection(passed, { boxes: [box('dent', 0.95), box('dent', 0.5), box('crack', 0.99)] }, RULE);
  assert.equal(unsure.decision, 'review');
  assert.deepEqual(unsure.reasons.map((r) => r.code), ['LOW_CONFIDENCE', 'REVIEW_LABEL']);
  assert.match(unsure.reasons[0].message, /Box 2/);
  assert.deepEqual(decideDetection(passed, { boxes: [] }, RULE), { decision: 'accept', reasons: [{ code: 'NO_OBJECTS', message: 'The detector found no object above its score threshold.' }] });
  assert.equal(decideDetection(passed, { boxes: [] }, { ...RULE, reviewEmpty: true }).decision, 'review');
});
