import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Frame } from '../src/core/frame.js';
import { readNpy, type NpyArray } from '../src/core/npy.js';
import { boxToFrame } from '../src/core/postprocess/detection.js';
import type { Box } from '../src/core/postprocess/nms.js';
import { preprocessHash } from '../src/core/preprocess/hash.js';
import { compareTensors } from '../src/core/preprocess/parity.js';
import { resizeWith } from '../src/core/preprocess/interpolation.js';
import { centreCropOffset, letterbox, placeOnCanvas, shorterSideSize } from '../src/core/preprocess/placement.js';
import { resizeBilinear } from '../src/core/preprocess/resize.js';
import { resizePil } from '../src/core/preprocess/resize-pil.js';
import { preprocessSpecSchema, type Interpolation, type PreprocessSpec } from '../src/core/preprocess/spec.js';
import { resizedSize, toTensor, toTensorBatch } from '../src/core/preprocess/tensor.js';
import { decodeUpright } from '../src/image/decode.js';
import { DETECTION_PREPROCESS, ORIENTATION_PREPROCESS, RECOGNITION_PREPROCESS } from '../src/runtime/builtin.js';

/** References written by scripts/make-parity-fixtures.py with Pillow and OpenCV (see its README). */
const FIXTURES = join(import.meta.dirname, 'fixtures', 'parity');

type ParityCase =
  | { name: string; reference: string; kind: 'resize'; image: string; interpolation: Interpolation; width: number; height: number }
  | { name: string; reference: string; kind: 'tensor'; image: string; spec: PreprocessSpec; ratio?: number; pad?: [number, number] }
  /** Every size resized from one image, flattened and concatenated. */
  | { name: string; reference: string; kind: 'sweep'; image: string; interpolation: Interpolation; sizes: [number, number][] };

interface Cases {
  madeWith: Record<string, string>;
  cases: ParityCase[];
}

const cases: Cases = JSON.parse(await readFile(join(FIXTURES, 'cases.json'), 'utf8'));

/** A PNG decoded as the server decodes uploads, or an [H, W, 3] uint8 .npy. */
async function image(name: string): Promise<Frame> {
  const bytes = new Uint8Array(await readFile(join(FIXTURES, name)));
  if (name.endsWith('.png')) return decodeUpright(bytes, 'png', 1e6);
  const { shape, data } = readNpy(bytes);
  return { width: shape[1], height: shape[0], channels: 3, data: Uint8Array.from(data) };
}

async function reference(name: string): Promise<NpyArray> {
  return readNpy(new Uint8Array(await readFile(join(FIXTURES, name))));
}

async function ours(parityCase: ParityCase): Promise<{ data: ArrayLike<number>; dims: number[] }> {
  const frame = await image(parityCase.image);
  if (parityCase.kind === 'sweep') {
    const results = parityCase.sizes.map(([width, height]) => resizeWith(frame, width, height, parityCase.interpolation).data);
    const data = new Uint8Array(results.reduce((total, r) => total + r.length, 0));
    results.reduce((offset, r) => (data.set(r, offset), offset + r.length), 0);
    return { data, dims: [data.length] };
  }
  if (parityCase.kind === 'resize') {
    const resized = resizeWith(frame, parityCase.width, parityCase.height, parityCase.interpolation);
    return { data: resized.data, dims: [resized.height, resized.width, resized.channels] };
  }
  const spec = preprocessSpecSchema.parse(parityCase.spec);
  const tensor = toTensor(frame, spec);
  return { data: tensor.data, dims: tensor.dims.slice(1) };
}

test('the parity fixtures cover every interpolation, both layouts, the letterbox and the centre crop', () => {
  const interpolations = new Set(cases.cases.flatMap((c) => (c.kind === 'tensor' ? c.spec.interpolation ?? [] : [c.interpolation])));
  assert.deepEqual([...interpolations].sort(), ['opencv-area', 'opencv-linear', 'opencv-nearest', 'pil-bicubic', 'pil-bilinear']);
  const modes = new Set(cases.cases.flatMap((c) => (c.kind === 'tensor' ? [c.spec.resize.mode, c.spec.layout] : [])));
  assert.deepEqual([...modes].sort(), ['fixed', 'letterbox', 'nchw', 'nhwc', 'shorter-side']);
});

for (const parityCase of cases.cases) {
  // One level of 255, in the reference's units: bytes for a resize, 1/255 over std for a tensor.
  const tolerance = parityCase.kind === 'tensor' ? 1 / 255 / Math.min(...parityCase.spec.std) + 1e-6 : 1;

  test(`${parityCase.name}: within one level of the reference (${parityCase.reference})`, async (t) => {
    const [mine, theirs] = await Promise.all([ours(parityCase), reference(parityCase.reference)]);
    assert.deepEqual(mine.dims, theirs.shape, 'shape');
    const { max, mean, first } = compareTensors(mine.data, theirs.data, theirs.shape, tolerance);
    t.diagnostic(`max abs difference ${max}, mean ${mean}`);
    assert.equal(first, null, `element ${JSON.stringify(first)} differs by more than ${tolerance} (max ${max})`);
  });

  test(`${parityCase.name}: sample for sample what Pillow ${cases.madeWith.pillow} / OpenCV ${cases.madeWith.opencv} computed`, async () => {
    const [mine, theirs] = await Promise.all([ours(parityCase), reference(parityCase.reference)]);
    // Bytes exactly; tensors up to float32 rounding of the normalisation (numpy divides in float32).
    const { max } = compareTensors(mine.data, theirs.data, theirs.shape, 0);
    assert.ok(max <= (parityCase.kind === 'tensor' ? 1e-6 : 0), `max abs difference ${max}: regenerated fixtures with other library versions may round differently; see test/fixtures/parity/README.md`);
  });
}

test("the letterbox's ratio and padding are the ones Ultralytics computed for the reference", async () => {
  const boxed = cases.cases.find((c) => c.name === 'ultralytics-letterbox');
  assert.ok(boxed?.kind === 'tensor' && boxed.ratio !== undefined && boxed.pad !== undefined);
  const frame = await image(boxed.image);
  const { placement } = toTensor(frame, boxed.spec);
  assert.equal(placement.scaleX, boxed.ratio);
  assert.equal(placement.scaleY, boxed.ratio);
  assert.deepEqual([placement.offsetX, placement.offsetY], boxed.pad);
});

test('the default resize (the built-in models\') stays within one level of cv2 INTER_LINEAR', async () => {
  for (const name of ['opencv-linear-down', 'opencv-linear-up']) {
    const parityCase = cases.cases.find((c) => c.name === name);
    assert.ok(parityCase?.kind === 'resize');
    const resized = resizeBilinear(await image(parityCase.image), parityCase.width, parityCase.height);
    const theirs = await reference(parityCase.reference);
    const { max, over } = compareTensors(resized.data, theirs.data, theirs.shape, 1);
    assert.equal(over, 0, `${name}: ${max}`);
  }
});

// --- the built-in models' preprocessing is unchanged ---------------------------------------------

test("the built-in specs' hashes are the ones recorded in every result's lineage so far", async () => {
  // Computed before PreprocessSpec gained interpolation, letterbox, shorter-side and nhwc.
  assert.equal(await preprocessHash(DETECTION_PREPROCESS), '11b966bfe2cc8240a70cd4c56d4cce91f20cf6c0a2bb8ec3ebae391cb3e0e663');
  assert.equal(await preprocessHash(ORIENTATION_PREPROCESS), 'da6236a095ec9e944c61062d4ba08c075520b8bcdc7d27dc4a96c997adec638f');
  assert.equal(await preprocessHash(RECOGNITION_PREPROCESS), '3054da8a5d3e9053660770467314a3fb051825213b7fda9f2872e989c5255dc1');
});

test('naming an interpolation, even the default one, is a new preprocessing version', async () => {
  const base = await preprocessHash(DETECTION_PREPROCESS);
  assert.notEqual(await preprocessHash({ ...DETECTION_PREPROCESS, interpolation: 'opencv-linear' }), base);
  assert.notEqual(await preprocessHash({ ...DETECTION_PREPROCESS, layout: 'nhwc' }), base);
});

test('a built-in spec without an interpolation resizes with the unchanged default resize', async () => {
  const frame = await image('scene.png');
  for (const spec of [DETECTION_PREPROCESS, ORIENTATION_PREPROCESS]) {
    const tensor = toTensor(frame, spec);
    const resized = resizeBilinear(frame, tensor.resizedWidth, tensor.resizedHeight);
    // Channel 0 of a BGR tensor is blue: byte 2 of each RGB pixel.
    for (const [y, x] of [[0, 0], [5, 7], [tensor.resizedHeight - 1, tensor.resizedWidth - 1]]) {
      const byte = resized.data[(y * resized.width + x) * 3 + 2];
      assert.equal(tensor.data[y * tensor.dims[3] + x], Math.fround((byte * spec.scale - spec.mean[0]) / spec.std[0]));
    }
  }
});

// --- geometry ------------------------------------------------------------------------------------

test('letterbox follows Ultralytics: min ratio, sides rounded half to even, odd padding below and right', () => {
  assert.deepEqual(letterbox(160, 120, 64, 40), { width: 53, height: 40, ratio: 1 / 3, left: 5, top: 0, right: 6, bottom: 0 });
  // 1280 x 720 into 640 x 640: ratio 0.5, 360 high, 140 above and below.
  assert.deepEqual(letterbox(1280, 720, 640, 640), { width: 640, height: 360, ratio: 0.5, left: 0, top: 140, right: 0, bottom: 140 });
  // 100 x 75 into 64 x 64: 48 high, 16 to split: 8 and 8; 100 x 73 -> 46.72 -> 47 high, 17: 8 above, 9 below.
  assert.deepEqual(letterbox(100, 73, 64, 64), { width: 64, height: 47, ratio: 0.64, left: 0, top: 8, right: 0, bottom: 9 });
  // Python rounds 2.5 to 2: 5 x 4 at ratio 0.5 is 2.5 x 2 -> 2 x 2.
  assert.equal(letterbox(5, 4, 4, 2).width, 2);
  // scaleUp false never enlarges: a small image sits in the middle at its own size.
  assert.deepEqual(letterbox(20, 10, 64, 64, false), { width: 20, height: 10, ratio: 1, left: 22, top: 27, right: 22, bottom: 27 });
});

test('a letterboxed tensor is padded with 114 (or the pad value) and holds the resized image in between', () => {
  const frame: Frame = { width: 4, height: 2, channels: 3, data: new Uint8Array(24).fill(200) };
  const spec: PreprocessSpec = { resize: { mode: 'letterbox', width: 8, height: 8 }, channelOrder: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1], layout: 'nchw' };
  const tensor = toTensor(frame, spec);
  assert.deepEqual(tensor.dims, [1, 3, 8, 8]);
  assert.deepEqual(tensor.placement, { scaleX: 2, scaleY: 2, offsetX: 0, offsetY: 2 });
  const column = Array.from({ length: 8 }, (_, y) => tensor.data[y * 8 + 3]);
  assert.deepEqual(column, [114, 114, 200, 200, 200, 200, 114, 114]);
  const grey = toTensor(frame, { ...spec, resize: { mode: 'letterbox', width: 8, height: 8, padValue: 0 } });
  assert.equal(grey.data[0], 0);
});

test('a box round-trips through the letterbox: frame to tensor pixels and back', () => {
  for (const [width, height, boxWidth, boxHeight] of [[1280, 720, 640, 640], [100, 73, 64, 64], [333, 500, 640, 480], [20, 10, 64, 64]]) {
    const spec: PreprocessSpec = { resize: { mode: 'letterbox', width: boxWidth, height: boxHeight }, channelOrder: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], layout: 'nchw' };
    const frame: Frame = { width, height, channels: 3, data: new Uint8Array(width * height * 3) };
    const { placement } = toTensor(frame, spec);
    const original: Box = [width * 0.1, height * 0.2, width * 0.7, height * 0.95];
    const inTensor: Box = [
      original[0] * placement.scaleX + placement.offsetX,
      original[1] * placement.scaleY + placement.offsetY,
      original[2] * placement.scaleX + placement.offsetX,
      original[3] * placement.scaleY + placement.offsetY,
    ];
    // Inside the tensor and inside the image's part of it.
    assert.ok(inTensor[0] >= placement.offsetX && inTensor[3] <= boxHeight, `${width}x${height}`);
    const back = boxToFrame(inTensor, placement, width, height);
    back.forEach((value, i) => assert.ok(Math.abs(value - original[i]) < 1e-9, `${width}x${height}: ${back} vs ${original}`));
  }
  // Boxes reaching into the padding are clipped to the frame.
  const placement = { scaleX: 0.5, scaleY: 0.5, offsetX: 0, offsetY: 140 };
  assert.deepEqual(boxToFrame([-10, 100, 700, 600], placement, 1280, 720), [0, 0, 1280, 720]);
});

test("shorter-side follows torchvision's Resize(int): the longer side truncated; CenterCrop rounds its offset", () => {
  assert.deepEqual(shorterSideSize(640, 480, 256), { width: 341, height: 256 }); // 341.33
  assert.deepEqual(shorterSideSize(480, 640, 256), { width: 256, height: 341 });
  assert.deepEqual(shorterSideSize(500, 500, 224), { width: 224, height: 224 });
  assert.deepEqual(resizedSize(160, 120, { mode: 'shorter-side', size: 50, crop: { width: 48, height: 48 } }), { width: 66, height: 50 });
  assert.deepEqual(centreCropOffset(66, 50, 48, 48), { left: 9, top: 1 });
  assert.deepEqual(centreCropOffset(341, 256, 224, 224), { left: 58, top: 16 }); // 58.5 -> 58, half to even
});

test('a centre crop larger than the resized image pads with zeros, as torchvision does', () => {
  const frame: Frame = { width: 2, height: 2, channels: 3, data: new Uint8Array(12).fill(90) };
  const spec: PreprocessSpec = { resize: { mode: 'shorter-side', size: 2, crop: { width: 4, height: 2 } }, channelOrder: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1], layout: 'nchw' };
  const tensor = toTensor(frame, spec);
  assert.deepEqual(Array.from(tensor.data.subarray(0, 4)), [0, 90, 90, 0]);
  assert.deepEqual(tensor.placement, { scaleX: 1, scaleY: 1, offsetX: 1, offsetY: 0 });
});

test('placeOnCanvas cuts what falls outside and fills the rest', () => {
  const frame: Frame = { width: 3, height: 1, channels: 3, data: Uint8Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3]) };
  assert.deepEqual(Array.from(placeOnCanvas(frame, 2, 1, -1, 0, 7).data), [2, 2, 2, 3, 3, 3]);
  assert.deepEqual(Array.from(placeOnCanvas(frame, 2, 2, 1, 1, 7).data), [7, 7, 7, 7, 7, 7, 7, 7, 7, 1, 1, 1]);
  assert.deepEqual(Array.from(placeOnCanvas(frame, 1, 1, 5, 5, 7).data), [7, 7, 7]);
});

// --- layout and resamplers -----------------------------------------------------------------------

test('NHWC lays samples out interleaved, in the spec channel order, and a batch stacks them', () => {
  const frame: Frame = { width: 2, height: 1, channels: 4, data: Uint8Array.from([10, 20, 30, 255, 40, 50, 60, 255]) };
  const spec: PreprocessSpec = { resize: { mode: 'fixed', width: 2, height: 1 }, channelOrder: 'bgr', scale: 1, mean: [0, 0, 0], std: [1, 1, 1], layout: 'nhwc' };
  const tensor = toTensor(frame, spec);
  assert.deepEqual(tensor.dims, [1, 1, 2, 3]);
  assert.deepEqual(Array.from(tensor.data), [30, 20, 10, 60, 50, 40]);
  const batch = toTensorBatch([frame, frame], spec);
  assert.deepEqual(batch.dims, [2, 1, 2, 3]);
  assert.deepEqual(Array.from(batch.data.subarray(6)), [30, 20, 10, 60, 50, 40]);
});

test('every resampler keeps a flat image flat and an unchanged size unchanged', () => {
  const flat: Frame = { width: 37, height: 23, channels: 3, data: new Uint8Array(37 * 23 * 3).fill(173) };
  const interpolations: Interpolation[] = ['opencv-linear', 'opencv-area', 'opencv-nearest', 'pil-bilinear', 'pil-bicubic'];
  for (const interpolation of interpolations) {
    for (const [width, height] of [[11, 7], [37, 23], [80, 51], [5, 40]]) {
      const resized = resizeWith(flat, width, height, interpolation);
      assert.ok(resized.data.every((v) => v === 173), `${interpolation} ${width}x${height}`);
    }
  }
  const scene: Frame = { width: 4, height: 3, channels: 3, data: Uint8Array.from({ length: 36 }, (_, i) => (i * 37) % 256) };
  for (const interpolation of interpolations) assert.deepEqual(resizeWith(scene, 4, 3, interpolation).data, scene.data, interpolation);
});

test("Pillow's bicubic overshoots at a hard edge and is clamped to bytes, bilinear does not", () => {
  const edge: Frame = { width: 8, height: 1, channels: 3, data: Uint8Array.from({ length: 24 }, (_, i) => (i < 12 ? 0 : 255)) };
  const cubic = resizePil(edge, 16, 1, 'bicubic');
  const linear = resizePil(edge, 16, 1, 'bilinear');
  // The cubic's negative lobe undershoots to 0 before the edge (clamped) where bilinear stays 0 too,
  // and its values around the edge are steeper.
  assert.ok(cubic.data[3 * 7] < linear.data[3 * 7]);
  assert.ok(cubic.data[3 * 8] > linear.data[3 * 8]);
  assert.ok(cubic.data.every((v) => v >= 0 && v <= 255));
});

test('an RGBA frame (a browser canvas) resizes its colour as the RGB frame does, with every interpolation', async () => {
  const rgb = await image('small.png');
  const rgba: Frame = { width: rgb.width, height: rgb.height, channels: 4, data: new Uint8Array(rgb.width * rgb.height * 4).fill(255) };
  for (let p = 0; p < rgb.width * rgb.height; p++) rgba.data.set(rgb.data.subarray(p * 3, p * 3 + 3), p * 4);
  for (const interpolation of ['opencv-linear', 'opencv-area', 'opencv-nearest', 'pil-bilinear', 'pil-bicubic'] as const) {
    for (const [width, height] of [[17, 13], [73, 53]]) {
      const fromRgb = resizeWith(rgb, width, height, interpolation).data;
      const fromRgba = resizeWith(rgba, width, height, interpolation).data;
      for (let p = 0; p < width * height; p++) {
        for (let c = 0; c < 3; c++) assert.equal(fromRgba[p * 4 + c], fromRgb[p * 3 + c], `${interpolation} ${width}x${height} pixel ${p}`);
      }
    }
  }
});

test('compareTensors reports max, mean, how many are over and where the first one is', () => {
  const reference = Float32Array.from({ length: 24 }, (_, i) => i / 10);
  const ours = Float32Array.from(reference);
  assert.deepEqual(compareTensors(ours, reference, [2, 3, 4], 0), { max: 0, mean: 0, over: 0, first: null });
  ours[13] += 0.5; // channel 1, row 0, column 1
  ours[20] -= 0.01;
  const difference = compareTensors(ours, reference, [2, 3, 4], 1 / 255);
  assert.equal(difference.over, 2);
  assert.ok(Math.abs(difference.max - 0.5) < 1e-6);
  assert.ok(Math.abs(difference.mean - 0.51 / 24) < 1e-6);
  assert.deepEqual(difference.first?.at, [1, 0, 1]);
  assert.equal(difference.first?.index, 13);
  assert.equal(compareTensors(ours, reference, [2, 3, 4], 0.02).over, 1);
  ours[0] = Number.NaN;
  assert.deepEqual(compareTensors(ours, reference, [2, 3, 4], 1).first?.at, [0, 0, 0]);
  assert.throws(() => compareTensors(ours, reference, [1, 3, 224, 224], 0), /without its batch dimension/);
});
