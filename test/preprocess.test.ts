import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isVisionopsError } from '../src/core/errors.js';
import type { Frame } from '../src/core/frame.js';
import type { Point, Quad } from '../src/core/postprocess/geometry.js';
import { canonicalJson } from '../src/core/canonical-json.js';
import { preprocessHash } from '../src/core/preprocess/hash.js';
import { addMargin, edgeMedian } from '../src/core/preprocess/margin.js';
import { resizeBilinear } from '../src/core/preprocess/resize.js';
import { rotateFrame, rotateFrameBy, rotatePoint, rotateQuad, type QuarterTurn } from '../src/core/preprocess/rotate.js';
import { preprocessSpecSchema, type PreprocessSpec } from '../src/core/preprocess/spec.js';
import { resizedSize, toTensor, toTensorBatch } from '../src/core/preprocess/tensor.js';
import { DETECTION_PREPROCESS, ORIENTATION_PREPROCESS, RECOGNITION_PREPROCESS } from '../src/runtime/builtin.js';

/** A frame whose pixel (x, y) is `pixel(x, y)`. */
function makeFrame(width: number, height: number, channels: 3 | 4, pixel: (x: number, y: number) => number[]): Frame {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(pixel(x, y).slice(0, channels), (y * width + x) * channels);
  }
  return { width, height, channels, data };
}

function pixelAt(frame: Frame, x: number, y: number): number[] {
  const offset = (y * frame.width + x) * frame.channels;
  return Array.from(frame.data.subarray(offset, offset + frame.channels));
}

/** Every pixel distinct: channel values encode x, y and the channel. */
function distinctFrame(width: number, height: number, channels: 3 | 4 = 3): Frame {
  return makeFrame(width, height, channels, (x, y) => [x * 16 + y, 100 + x + y * 16, 200 + x, 255 - y].map((v) => v & 255));
}

/** The value toTensor must give a byte in tensor channel `c`: float32 of (byte * scale - mean) / std. */
function normalised(spec: PreprocessSpec, c: number, byte: number): number {
  return Math.fround((byte * spec.scale - spec.mean[c]) / spec.std[c]);
}

/** Tensor value at batch n, channel c, row y, column x of an NCHW tensor. */
function at(tensor: { data: Float32Array; dims: number[] }, n: number, c: number, y: number, x: number): number {
  const [, channels, height, width] = tensor.dims;
  return tensor.data[((n * channels + c) * height + y) * width + x];
}

const SMALL_SPEC: PreprocessSpec = {
  resize: { mode: 'fixed', width: 3, height: 2 },
  channelOrder: 'rgb',
  scale: 1 / 255,
  mean: [0.1, 0.2, 0.3],
  std: [0.5, 0.25, 0.125],
  layout: 'nchw',
};

// --- spec schema -------------------------------------------------------------------------------

test('the spec schema accepts the three built-in specs unchanged', () => {
  for (const spec of [DETECTION_PREPROCESS, ORIENTATION_PREPROCESS, RECOGNITION_PREPROCESS]) {
    const parsed = preprocessSpecSchema.safeParse(spec);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    assert.deepEqual(parsed.data, spec);
  }
});

test('the spec schema refuses malformed specs', () => {
  const malformed: [string, unknown][] = [
    ['unknown top-level key', { ...DETECTION_PREPROCESS, interpolation: 'cubic' }],
    ['missing resize', { ...DETECTION_PREPROCESS, resize: undefined }],
    ['unknown resize mode', { ...DETECTION_PREPROCESS, resize: { mode: 'crop', width: 640, height: 640 } }],
    ['letterbox pad value above a byte', { ...DETECTION_PREPROCESS, resize: { mode: 'letterbox', width: 640, height: 640, padValue: 256 } }],
    ['letterbox without height', { ...DETECTION_PREPROCESS, resize: { mode: 'letterbox', width: 640 } }],
    ['shorter-side crop of zero', { ...DETECTION_PREPROCESS, resize: { mode: 'shorter-side', size: 256, crop: { width: 0, height: 224 } } }],
    ['unknown interpolation', { ...DETECTION_PREPROCESS, interpolation: 'lanczos' }],
    ['non-integer multipleOf', { ...DETECTION_PREPROCESS, resize: { mode: 'limit-long-side', target: 960, multipleOf: 32.5 } }],
    ['zero target', { ...DETECTION_PREPROCESS, resize: { mode: 'limit-long-side', target: 0, multipleOf: 32 } }],
    ['extra key in resize', { ...DETECTION_PREPROCESS, resize: { mode: 'limit-long-side', target: 960, multipleOf: 32, height: 48 } }],
    ['fixed-height without height', { ...ORIENTATION_PREPROCESS, resize: { mode: 'fixed-height', maxWidth: 192 } }],
    ['negative maxWidth', { ...ORIENTATION_PREPROCESS, resize: { mode: 'fixed-height', height: 48, maxWidth: -1 } }],
    ['fixed without width', { ...DETECTION_PREPROCESS, resize: { mode: 'fixed', height: 48 } }],
    ['channel order gbr', { ...DETECTION_PREPROCESS, channelOrder: 'gbr' }],
    ['zero scale', { ...DETECTION_PREPROCESS, scale: 0 }],
    ['mean of two', { ...DETECTION_PREPROCESS, mean: [0.5, 0.5] }],
    ['mean of four', { ...DETECTION_PREPROCESS, mean: [0.5, 0.5, 0.5, 0.5] }],
    ['zero std', { ...DETECTION_PREPROCESS, std: [0.5, 0, 0.5] }],
    ['negative std', { ...DETECTION_PREPROCESS, std: [0.5, 0.5, -0.5] }],
    ['string mean', { ...DETECTION_PREPROCESS, mean: ['0.5', 0.5, 0.5] }],
    ['chwn layout', { ...DETECTION_PREPROCESS, layout: 'chwn' }],
    ['margin above 4', { ...RECOGNITION_PREPROCESS, margin: { vertical: 5, horizontal: 0.2 } }],
    ['negative margin', { ...RECOGNITION_PREPROCESS, margin: { vertical: 0.35, horizontal: -0.1 } }],
    ['margin missing a side', { ...RECOGNITION_PREPROCESS, margin: { vertical: 0.35 } }],
    ['padding without value', { ...RECOGNITION_PREPROCESS, padding: { width: 320 } }],
    ['padding width zero', { ...RECOGNITION_PREPROCESS, padding: { width: 0, value: 0 } }],
    ['extra key in padding', { ...RECOGNITION_PREPROCESS, padding: { width: 320, value: 0, side: 'left' } }],
    ['not an object', 'bgr'],
  ];
  for (const [name, spec] of malformed) {
    assert.equal(preprocessSpecSchema.safeParse(spec).success, false, `accepted: ${name}`);
  }
});

// --- resizedSize -------------------------------------------------------------------------------

test('limit-long-side follows PaddleOCR DetResizeForTest (limit_type max, 960, multiples of 32)', () => {
  // Expected sizes computed with predict_det's rule in Python: ratio = 960 / max side when the
  // max side exceeds 960, else 1; side = max(int(round(int(side * ratio) / 32) * 32), 32).
  const cases: [number, number, number, number][] = [
    [1200, 540, 960, 448], // 540 * 0.8 = 432 = 13.5 * 32: round half to even gives 14
    [540, 1200, 448, 960],
    [1920, 1080, 960, 544],
    [1000, 750, 960, 704], // 750 * 0.96 = 720 = 22.5 * 32: round half to even gives 22
    [3000, 1000, 960, 320],
    [500, 400, 512, 384], // never shrinks below the limit nor enlarges: 15.625 -> 16, 12.5 -> 12
    [300, 200, 288, 192],
    [2000, 10, 960, 32], // at least one multiple
    [16, 16, 32, 32],
  ];
  for (const [width, height, expectedWidth, expectedHeight] of cases) {
    assert.deepEqual(resizedSize(width, height, DETECTION_PREPROCESS.resize), { width: expectedWidth, height: expectedHeight }, `${width}x${height}`);
  }
});

test('limit-long-side honours other targets and multiples', () => {
  assert.deepEqual(resizedSize(1000, 500, { mode: 'limit-long-side', target: 640, multipleOf: 10 }), { width: 640, height: 320 });
  assert.deepEqual(resizedSize(123, 45, { mode: 'limit-long-side', target: 640, multipleOf: 1 }), { width: 123, height: 45 });
});

test('fixed-height keeps the aspect ratio, rounds up, and caps at maxWidth', () => {
  const orientation = ORIENTATION_PREPROCESS.resize;
  const recognition = RECOGNITION_PREPROCESS.resize;
  assert.deepEqual(resizedSize(30, 20, orientation), { width: 72, height: 48 });
  assert.deepEqual(resizedSize(31, 20, orientation), { width: 75, height: 48 }); // 74.4 rounds up
  assert.deepEqual(resizedSize(100, 20, orientation), { width: 192, height: 48 }); // 240 capped
  assert.deepEqual(resizedSize(100, 20, recognition), { width: 240, height: 48 }); // no cap
  assert.deepEqual(resizedSize(1000, 10, recognition), { width: 4800, height: 48 });
  assert.deepEqual(resizedSize(1, 1000, recognition), { width: 1, height: 48 }); // at least one column
  assert.deepEqual(resizedSize(31, 20, { mode: 'fixed-height', height: 48, multipleOf: 8 }), { width: 80, height: 48 });
  assert.deepEqual(resizedSize(100, 20, { mode: 'fixed-height', height: 48, maxWidth: 100, multipleOf: 8 }), { width: 100, height: 48 });
  assert.deepEqual(resizedSize(77, 13, { mode: 'fixed', width: 64, height: 32 }), { width: 64, height: 32 });
});

// --- toTensor ----------------------------------------------------------------------------------

test('toTensor lays a frame out NCHW, normalised per channel, in RGB order', () => {
  const frame = distinctFrame(3, 2);
  const tensor = toTensor(frame, SMALL_SPEC);
  assert.deepEqual(tensor.dims, [1, 3, 2, 3]);
  assert.equal(tensor.data.length, 18);
  assert.equal(tensor.resizedWidth, 3);
  assert.equal(tensor.resizedHeight, 2);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 3; x++) {
      const rgb = pixelAt(frame, x, y);
      for (let c = 0; c < 3; c++) assert.equal(at(tensor, 0, c, y, x), normalised(SMALL_SPEC, c, rgb[c]), `c${c} y${y} x${x}`);
    }
  }
  // A hand-checked sample: pixel (2, 1) is [33, 118, 202]; red plane is (33/255 - 0.1) / 0.5.
  assert.deepEqual(pixelAt(frame, 2, 1), [33, 118, 202]);
  assert.ok(Math.abs(tensor.data[0 * 6 + 1 * 3 + 2] - (33 / 255 - 0.1) / 0.5) < 1e-6);
  assert.ok(Math.abs(tensor.data[2 * 6 + 1 * 3 + 2] - (202 / 255 - 0.3) / 0.125) < 1e-6);
});

test('toTensor in BGR order puts the blue samples in the first plane, normalised with the first mean and std', () => {
  const frame = distinctFrame(3, 2);
  const spec: PreprocessSpec = { ...SMALL_SPEC, channelOrder: 'bgr' };
  const tensor = toTensor(frame, spec);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 3; x++) {
      const [r, g, b] = pixelAt(frame, x, y);
      assert.equal(at(tensor, 0, 0, y, x), normalised(spec, 0, b));
      assert.equal(at(tensor, 0, 1, y, x), normalised(spec, 1, g));
      assert.equal(at(tensor, 0, 2, y, x), normalised(spec, 2, r));
    }
  }
  // Pixel (0, 0) is [0, 100, 200]: the first plane holds (200/255 - 0.1) / 0.5.
  assert.ok(Math.abs(tensor.data[0] - (200 / 255 - 0.1) / 0.5) < 1e-6);
});

test('toTensor drops the alpha channel of an RGBA frame', () => {
  const rgb = distinctFrame(3, 2, 3);
  const rgba = makeFrame(3, 2, 4, (x, y) => [...pixelAt(rgb, x, y), 7]);
  assert.deepEqual(toTensor(rgba, SMALL_SPEC).data, toTensor(rgb, SMALL_SPEC).data);
});

test('toTensor resizes per the spec and reports the resized size', () => {
  const grey = makeFrame(100, 50, 3, () => [10, 128, 250]);
  const tensor = toTensor(grey, DETECTION_PREPROCESS);
  assert.deepEqual(tensor.dims, [1, 3, 64, 96]);
  assert.equal(tensor.data.length, 3 * 64 * 96);
  assert.deepEqual([tensor.resizedWidth, tensor.resizedHeight], [96, 64]);
  // A flat frame stays flat through bilinear resizing; BGR puts 250 first.
  const expected = [normalised(DETECTION_PREPROCESS, 0, 250), normalised(DETECTION_PREPROCESS, 1, 128), normalised(DETECTION_PREPROCESS, 2, 10)];
  for (let c = 0; c < 3; c++) {
    const plane = tensor.data.subarray(c * 64 * 96, (c + 1) * 64 * 96);
    assert.ok(plane.every((v) => v === expected[c]), `plane ${c}`);
  }
});

test('resizeBilinear keeps a two-level step between the levels and copies when the size is unchanged', () => {
  const step = makeFrame(4, 1, 3, (x) => (x < 2 ? [0, 0, 0] : [200, 200, 200]));
  const same = resizeBilinear(step, 4, 1);
  assert.deepEqual(same.data, step.data);
  assert.notEqual(same.data, step.data);
  const wide = resizeBilinear(step, 8, 2);
  assert.deepEqual([wide.width, wide.height, wide.channels], [8, 2, 3]);
  const row = Array.from({ length: 8 }, (_, x) => pixelAt(wide, x, 0)[0]);
  assert.deepEqual(row.slice(0, 3), [0, 0, 0]);
  assert.deepEqual(row.slice(5), [200, 200, 200]);
  assert.ok(row[3] > 0 && row[3] < 200 && row[4] > row[3] && row[4] < 200, String(row));
  assert.throws(() => resizeBilinear(step, 0, 1), (error: unknown) => isVisionopsError(error) && error.code === 'INTERNAL');
});

// --- toTensorBatch -----------------------------------------------------------------------------

test('toTensorBatch pads every frame on the right to the padding width with the padding value', () => {
  const spec: PreprocessSpec = { ...SMALL_SPEC, resize: { mode: 'fixed-height', height: 2 }, padding: { width: 6, value: -7 } };
  const narrow = makeFrame(2, 2, 3, () => [51, 102, 153]);
  const wide = makeFrame(4, 2, 3, () => [255, 0, 51]);
  const batch = toTensorBatch([narrow, wide], spec);
  assert.deepEqual(batch.dims, [2, 3, 2, 6]);
  assert.equal(batch.data.length, 2 * 3 * 2 * 6);
  assert.deepEqual(batch.resized, [
    { width: 2, height: 2 },
    { width: 4, height: 2 },
  ]);
  const frames = [
    { width: 2, rgb: [51, 102, 153] },
    { width: 4, rgb: [255, 0, 51] },
  ];
  frames.forEach(({ width, rgb }, n) => {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 2; y++) {
        for (let x = 0; x < 6; x++) {
          const expected = x < width ? normalised(spec, c, rgb[c]) : -7;
          assert.equal(at(batch, n, c, y, x), expected, `n${n} c${c} y${y} x${x}`);
        }
      }
    }
  });
});

test('toTensorBatch pads to the widest frame when it is wider than the padding width', () => {
  const spec: PreprocessSpec = { ...SMALL_SPEC, resize: { mode: 'fixed-height', height: 2 }, padding: { width: 3, value: 0.5 } };
  const batch = toTensorBatch([makeFrame(2, 2, 3, () => [0, 0, 0]), makeFrame(5, 2, 3, () => [255, 255, 255])], spec);
  assert.deepEqual(batch.dims, [2, 3, 2, 5]);
  for (let c = 0; c < 3; c++) {
    for (let x = 0; x < 5; x++) {
      assert.equal(at(batch, 0, c, 1, x), x < 2 ? normalised(spec, c, 0) : 0.5);
      assert.equal(at(batch, 1, c, 1, x), normalised(spec, c, 255));
    }
  }
  // Padding with no width pads to the widest only.
  const widestOnly = toTensorBatch([makeFrame(2, 2, 3, () => [0, 0, 0]), makeFrame(5, 2, 3, () => [0, 0, 0])], { ...spec, padding: { value: 0 } });
  assert.deepEqual(widestOnly.dims, [2, 3, 2, 5]);
});

test('the built-in recognition spec pads a short line to 320 columns of zero', () => {
  const line = makeFrame(20, 10, 3, () => [255, 255, 255]);
  const tensor = toTensor(line, RECOGNITION_PREPROCESS);
  // Margin: round(10 * 0.1) = 1 on every side: 22 x 12, then 48 high and ceil(48 * 22 / 12) = 88 wide.
  assert.deepEqual([tensor.resizedWidth, tensor.resizedHeight], [88, 48]);
  assert.deepEqual(tensor.dims, [1, 3, 48, 320]);
  for (let c = 0; c < 3; c++) {
    assert.equal(at(tensor, 0, c, 20, 30), 1); // white: (1 - 0.5) / 0.5
    assert.equal(at(tensor, 0, c, 20, 88), 0);
    assert.equal(at(tensor, 0, c, 47, 319), 0);
  }
});

test('toTensorBatch refuses an empty batch and differently sized frames without padding', () => {
  const isInternal = (error: unknown) => isVisionopsError(error) && error.code === 'INTERNAL';
  assert.throws(() => toTensorBatch([], SMALL_SPEC), isInternal);
  const heightOnly: PreprocessSpec = { ...SMALL_SPEC, resize: { mode: 'fixed-height', height: 2 } };
  assert.throws(() => toTensorBatch([makeFrame(2, 2, 3, () => [0, 0, 0]), makeFrame(4, 2, 3, () => [0, 0, 0])], heightOnly), isInternal);
  // The same widths need no padding.
  assert.deepEqual(toTensorBatch([makeFrame(4, 2, 3, () => [0, 0, 0]), makeFrame(4, 2, 3, () => [0, 0, 0])], heightOnly).dims, [2, 3, 2, 4]);
});

// --- margin ------------------------------------------------------------------------------------

/** 5 x 4: an edge of [10, 20, 30] but for one odd pixel, an inside of [255, 0, 0]. */
function framedLine(): Frame {
  return makeFrame(5, 4, 3, (x, y) => {
    if (x === 0 && y === 0) return [250, 250, 250];
    const edge = x === 0 || y === 0 || x === 4 || y === 3;
    return edge ? [10, 20, 30] : [255, 0, 0];
  });
}

test('edgeMedian is the per-channel median of the outermost pixels', () => {
  assert.deepEqual(edgeMedian(framedLine()), [10, 20, 30]);
  const split = makeFrame(4, 1, 3, (x) => (x < 3 ? [0, 200, 9] : [100, 100, 100]));
  assert.deepEqual(edgeMedian(split), [0, 200, 9]);
});

test('addMargin grows the frame by 2*top and 2*side, filled with the edge median, the frame inside', () => {
  const frame = framedLine();
  const out = addMargin(frame, 2, 3);
  assert.deepEqual([out.width, out.height, out.channels], [5 + 2 * 3, 4 + 2 * 2, 3]);
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const inside = x >= 3 && x < 8 && y >= 2 && y < 6;
      assert.deepEqual(pixelAt(out, x, y), inside ? pixelAt(frame, x - 3, y - 2) : [10, 20, 30], `x${x} y${y}`);
    }
  }
  assert.equal(addMargin(frame, 0, 0), frame);
});

test('a spec margin is taken in fractions of the frame height before resizing', () => {
  const frame = framedLine();
  // top = round(4 * 0.5) = 2, side = round(4 * 0.25) = 1: 7 x 8, which the 8-high resize keeps.
  const spec: PreprocessSpec = { ...SMALL_SPEC, margin: { vertical: 0.5, horizontal: 0.25 }, resize: { mode: 'fixed-height', height: 8 } };
  const tensor = toTensor(frame, spec);
  assert.deepEqual(tensor.dims, [1, 3, 8, 7]);
  const margined = addMargin(frame, 2, 1);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 7; x++) {
      const rgb = pixelAt(margined, x, y);
      for (let c = 0; c < 3; c++) assert.equal(at(tensor, 0, c, y, x), normalised(spec, c, rgb[c]));
    }
  }
  assert.equal(at(tensor, 0, 0, 0, 0), normalised(spec, 0, 10));
  assert.equal(at(tensor, 0, 0, 3, 2), normalised(spec, 0, 255));
});

// --- preprocessHash ----------------------------------------------------------------------------

/** The same object with its keys written in reverse order at every level. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).reverse().map(([key, item]) => [key, reversedKeys(item)]));
  }
  return value;
}

test('preprocessHash is the 64-hex SHA-256 of the canonical JSON and ignores key order', async () => {
  for (const spec of [DETECTION_PREPROCESS, ORIENTATION_PREPROCESS, RECOGNITION_PREPROCESS]) {
    const hash = await preprocessHash(spec);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(hash, createHash('sha256').update(canonicalJson(spec), 'utf8').digest('hex'));
    const reordered = reversedKeys(spec) as PreprocessSpec;
    assert.notEqual(JSON.stringify(reordered), JSON.stringify(spec));
    assert.equal(await preprocessHash(reordered), hash);
    assert.equal(await preprocessHash({ ...spec, padding: spec.padding }), hash);
  }
  assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } }), '{"a":{"d":[2,1]},"b":1}');
});

test('preprocessHash changes when any field changes', async () => {
  const base = RECOGNITION_PREPROCESS;
  const variants: PreprocessSpec[] = [
    { ...base, margin: undefined },
    { ...base, margin: { vertical: 0.35, horizontal: 0.25 } },
    { ...base, margin: { vertical: 0.3, horizontal: 0.2 } },
    { ...base, resize: { mode: 'fixed-height', height: 32 } },
    { ...base, resize: { mode: 'fixed-height', height: 48, maxWidth: 320 } },
    { ...base, resize: { mode: 'fixed', width: 320, height: 48 } },
    { ...base, channelOrder: 'rgb' },
    { ...base, scale: 1 },
    { ...base, mean: [0.5, 0.5, 0.4] },
    { ...base, std: [0.5, 0.6, 0.5] },
    { ...base, padding: undefined },
    { ...base, padding: { width: 321, value: 0 } },
    { ...base, padding: { width: 320, value: -1 } },
    DETECTION_PREPROCESS,
    ORIENTATION_PREPROCESS,
  ];
  const hashes = new Set([await preprocessHash(base)]);
  for (const variant of variants) hashes.add(await preprocessHash(variant));
  assert.equal(hashes.size, variants.length + 1);
  // Array order is meaningful: swapping mean values is another spec.
  const spec: PreprocessSpec = { ...DETECTION_PREPROCESS, mean: [0.406, 0.456, 0.485] };
  assert.notEqual(await preprocessHash(spec), await preprocessHash(DETECTION_PREPROCESS));
});

// --- rotation ----------------------------------------------------------------------------------

test('rotateFrame turns clockwise by 90, 180 and 270 degrees', () => {
  // a b c          d a        f e d        c f
  // d e f   90 ->  e b  180-> c b a  270-> b e
  //                f c                     a d
  const letters = 'abcdef';
  const frame = makeFrame(3, 2, 3, (x, y) => [letters.charCodeAt(y * 3 + x), y, x]);
  const read = (f: Frame) => Array.from({ length: f.height }, (_, y) => Array.from({ length: f.width }, (_, x) => String.fromCharCode(pixelAt(f, x, y)[0])).join(''));
  const turned90 = rotateFrame(frame, 90);
  assert.deepEqual([turned90.width, turned90.height], [2, 3]);
  assert.deepEqual(read(turned90), ['da', 'eb', 'fc']);
  assert.deepEqual(read(rotateFrame(frame, 180)), ['fed', 'cba']);
  const turned270 = rotateFrame(frame, 270);
  assert.deepEqual([turned270.width, turned270.height], [2, 3]);
  assert.deepEqual(read(turned270), ['cf', 'be', 'ad']);
  // Every channel moves with its pixel: 'a' was at (0, 0).
  assert.deepEqual(pixelAt(turned90, 1, 0), ['a'.charCodeAt(0), 0, 0]);
  assert.equal(rotateFrame(frame, 0), frame);
});

test('four quarter turns, two half turns, and 90 then 270 give the frame back', () => {
  for (const channels of [3, 4] as const) {
    const frame = distinctFrame(7, 4, channels);
    let turned = frame;
    for (let i = 0; i < 4; i++) {
      turned = rotateFrame(turned, 90);
      if (i < 3) assert.notDeepEqual(turned.data, frame.data);
    }
    assert.deepEqual(turned, frame);
    assert.deepEqual(rotateFrame(rotateFrame(frame, 180), 180), frame);
    assert.deepEqual(rotateFrame(rotateFrame(frame, 90), 270), frame);
    assert.deepEqual(rotateFrame(rotateFrame(frame, 90), 90), rotateFrame(frame, 180));
  }
});

test('rotatePoint sends every pixel where rotateFrame puts it', () => {
  const frame = distinctFrame(5, 3);
  for (const degrees of [0, 90, 180, 270] as QuarterTurn[]) {
    const turned = rotateFrame(frame, degrees);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 5; x++) {
        const [tx, ty] = rotatePoint([x, y], degrees, 5, 3);
        assert.deepEqual(pixelAt(turned, tx, ty), pixelAt(frame, x, y), `${degrees}: (${x}, ${y})`);
      }
    }
  }
});

test('rotateFrameBy turns by any angle on a canvas that holds it all, and toSource carries each pixel back to where it came from', () => {
  // A smooth ramp, so that bilinear sampling at a point equals the ramp's value there.
  const ramp = (x: number, y: number) => [4 * x + 2 * y, 3 * y + 10, 100];
  const frame = makeFrame(40, 30, 3, ramp);
  for (const degrees of [10, -33, 80, 90]) {
    const turned = rotateFrameBy(frame, degrees);
    const radians = (Math.abs(degrees) * Math.PI) / 180;
    assert.equal(turned.frame.width, Math.ceil(40 * Math.cos(radians) + 30 * Math.sin(radians) - 1e-9), `${degrees}: width`);
    let inside = 0;
    for (let y = 0; y < turned.frame.height; y++) {
      for (let x = 0; x < turned.frame.width; x++) {
        const [sx, sy] = turned.toSource([x, y]);
        const pixel = pixelAt(turned.frame, x, y);
        if (sx < 0 || sy < 0 || sx > 39 || sy > 29) {
          assert.deepEqual(pixel, [255, 255, 255], `${degrees}: (${x}, ${y}) lies outside the frame and is white`);
          continue;
        }
        inside++;
        ramp(sx, sy).forEach((v, c) => assert.ok(Math.abs(pixel[c] - v) <= 0.5 + 1e-9, `${degrees}: (${x}, ${y}) from (${sx.toFixed(2)}, ${sy.toFixed(2)}): ${pixel} vs ${ramp(sx, sy)}`));
      }
    }
    assert.ok(Math.abs(inside - 40 * 30) < 0.1 * 40 * 30, `${degrees}: about the frame's area is covered (${inside})`);
  }
  // A clockwise turn: the top-left corner of a frame turned 90 degrees lands at its top-right.
  const [sx, sy] = rotateFrameBy(frame, 90).toSource([29, 0]);
  assert.ok(Math.abs(sx) < 1e-9 && Math.abs(sy) < 1e-9, `(${sx}, ${sy})`);
});

test('rotateQuad agrees with rotateFrame and renames corners so the first is the top-left again', () => {
  const width = 9;
  const height = 6;
  const quad: Quad = [
    [2, 1],
    [6, 1],
    [6, 4],
    [2, 4],
  ];
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
  ];
  const frame = makeFrame(width, height, 3, (x, y) => {
    const corner = quad.findIndex(([qx, qy]) => qx === x && qy === y);
    return corner >= 0 ? colours[corner] : [9, 9, 9];
  });
  for (const degrees of [0, 90, 180, 270] as QuarterTurn[]) {
    const turned = rotateFrame(frame, degrees);
    const moved = rotateQuad(quad, degrees, width, height);
    const shift = degrees / 90;
    for (let i = 0; i < 4; i++) {
      const [x, y] = moved[(i + shift) % 4];
      assert.deepEqual(pixelAt(turned, x, y), colours[i], `${degrees}: corner ${i}`);
    }
    // An axis-aligned rectangle stays one, listed top-left, top-right, bottom-right, bottom-left.
    const xs = moved.map((p: Point) => p[0]);
    const ys = moved.map((p: Point) => p[1]);
    const [left, right, top, bottom] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    assert.deepEqual(moved, [
      [left, top],
      [right, top],
      [right, bottom],
      [left, bottom],
    ]);
  }
  // A half turn swaps the corner names across: the old bottom-right is the new top-left.
  assert.deepEqual(rotateQuad(quad, 180, width, height)[0], [width - 1 - 6, height - 1 - 4]);
});
