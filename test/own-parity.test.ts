import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { isVisionopsError } from '../src/core/errors.js';
import { readNpy, writeNpy } from '../src/core/npy.js';
import { checkParity } from '../src/pipeline/own/parity.js';
import { visionops as cli } from './helpers/cli.js';

/** References written with Pillow and OpenCV by scripts/make-parity-fixtures.py (test/fixtures/parity/README.md). */
const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'parity');
/** Parity reads only the manifest's input; any ONNX file serves as its model. */
const MODEL = resolve(import.meta.dirname, '..', 'examples', 'bright-squares', 'model.onnx');
const dir = mkdtempSync(join(tmpdir(), 'visionops-own-parity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** torchvision's Resize(50) + CenterCrop(48) on a PIL image with ImageNet normalisation, as its user writes the manifest. */
const TORCHVISION_INPUT = {
  width: 48,
  height: 48,
  resize: 'shorter-side',
  shorterSide: 50,
  interpolation: 'bilinear',
  antialias: true,
  scale: 255,
  mean: [0.48500001430511475, 0.4560000002384186, 0.4059999883174896],
  std: [0.2290000021457672, 0.2240000069141388, 0.22499999403953552],
};
/** An OpenCV channels-last pipeline: cv2.resize INTER_AREA to 64 x 48, BGR, (x / 255 - 0.5) / 0.5. */
const OPENCV_INPUT = { width: 64, height: 48, resize: 'stretch', interpolation: 'area', layout: 'NHWC', colors: 'BGR', scale: 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

function manifest(name: string, input: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ name, task: 'classification', model: MODEL, input, output: { labels: ['a'] } }));
  return path;
}

/** A reference folder: the fixture image as NAME.png beside the tensor as NAME.npy, changed by `perturb` first. */
function referenceFolder(name: string, reference: string, perturb?: (data: Float32Array) => void): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  copyFileSync(join(FIXTURES, 'scene.png'), join(folder, 'scene.png'));
  const { data, shape } = readNpy(new Uint8Array(readFileSync(join(FIXTURES, reference))));
  perturb?.(data);
  writeFileSync(join(folder, 'scene.npy'), writeNpy(data, shape));
  return folder;
}

const pipelines = [
  { name: 'torchvision', task: 'classification', manifest: manifest('torchvision', TORCHVISION_INPUT) },
  { name: 'opencv', task: 'classification', manifest: manifest('opencv', OPENCV_INPUT) },
];
const sets = ['--set', `pipelines=${JSON.stringify(pipelines)}`, '--set', `data.dir=${JSON.stringify(join(dir, 'data'))}`];

test('visionops parity passes against the tensor torchvision made with PIL, and exits 0', async () => {
  const outcome = await cli('parity', 'torchvision', '--reference', referenceFolder('pil', 'torchvision-centre-crop.npy'), ...sets);
  assert.equal(outcome.code, 0, outcome.stdout + outcome.stderr);
  assert.match(outcome.stdout, /^ok {3}scene: max \S+, mean \S+\n1 compared, 1 within 0\.0175, 0 not\n$/);
  const max = Number(/max (\S+),/.exec(outcome.stdout)?.[1]);
  assert.ok(max < 1e-5, `max difference ${max}`);
});

test('a perturbed reference fails with the first differing element as a pixel and a channel, and exits 1', async () => {
  // [3, 48, 48]: channel 1 (green), row 10, column 20 first; a later element too.
  const folder = referenceFolder('perturbed', 'torchvision-centre-crop.npy', (data) => {
    data[1 * 48 * 48 + 10 * 48 + 20] += 0.5;
    data[2 * 48 * 48 + 40 * 48 + 3] -= 0.25;
  });
  const outcome = await cli('parity', 'torchvision', '--reference', folder, ...sets);
  assert.equal(outcome.code, 1, outcome.stdout + outcome.stderr);
  assert.match(outcome.stdout, /FAIL scene: max 0\.500, mean \S+; 2 of 6912 elements over 0\.0175, the first at pixel x 20, y 10, channel 1 \(G\): visionops \S+, reference \S+\n/);
  // A tolerance above the perturbation lets it pass.
  const loose = await cli('parity', 'torchvision', '--reference', folder, '--tolerance', '0.6', ...sets);
  assert.equal(loose.code, 0, loose.stdout);
});

test('channels-last BGR references are read by pixel and channel in their own layout; shapes that differ are reported', async () => {
  const config = loadConfig({ sets: sets.filter((s) => s !== '--set') });
  const same = await checkParity(config, 'opencv', referenceFolder('opencv', 'opencv-nhwc-bgr.npy'));
  assert.equal(same.passed, true);
  assert.ok((same.files[0].difference?.max ?? 1) < 1e-6, 'float32 normalisation only');
  // [48, 64, 3]: row 5, column 7, channel 0, which is blue in a BGR tensor.
  const changed = await checkParity(config, 'opencv', referenceFolder('opencv-changed', 'opencv-nhwc-bgr.npy', (data) => (data[(5 * 64 + 7) * 3] += 1)));
  assert.equal(changed.passed, false);
  assert.deepEqual({ ...changed.files[0].first, ours: 0, reference: 0 }, { x: 7, y: 5, channel: 0, channelName: 'B', ours: 0, reference: 0 });
  const wrong = await checkParity(config, 'torchvision', referenceFolder('wrong-shape', 'opencv-nhwc-bgr.npy'));
  assert.equal(wrong.passed, false);
  assert.match(wrong.files[0].problem ?? '', /shape \(48, 64, 3\), visionops makes \(3, 48, 48\)/);
  await assert.rejects(checkParity(config, 'opencv', join(dir, 'data')), (error) => isVisionopsError(error) && error.code === 'INVALID_REQUEST');
});
