import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVisionopsError } from '../src/core/errors.js';
import type { Frame } from '../src/core/frame.js';
import { topClass } from '../src/core/postprocess/classification.js';
import { ctcGreedyDecode, ctcGreedyDecodeBatch } from '../src/core/postprocess/ctc.js';
import { extractTextBoxes, sortReadingOrder, type DbOptions, type DetectedBox, type ProbabilityMap } from '../src/core/postprocess/db.js';
import {
  convexHull,
  minAreaRect,
  polygonArea,
  polygonPerimeter,
  rectCorners,
  type Point,
  type Quad,
} from '../src/core/postprocess/geometry.js';
import { cropQuad, sideBySide, warpQuad } from '../src/core/preprocess/crop.js';
import { seededRandom } from './fixtures/documents.js';

const PADDLE: DbOptions = { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, maxCandidates: 1000 };
const BACKGROUND = 0.05;

interface Blob {
  cx: number;
  cy: number;
  w: number;
  h: number;
  angle?: number;
  /** Probability at a pixel, from its offset along and across the blob's long side. */
  value: number | ((along: number, across: number) => number);
}

/** A probability map with each blob's pixels (those whose centre lies inside it) set to its value. */
function probabilityMap(width: number, height: number, blobs: Blob[]): ProbabilityMap {
  const data = new Float32Array(width * height).fill(BACKGROUND);
  for (const blob of blobs) {
    const radians = ((blob.angle ?? 0) * Math.PI) / 180;
    const ux = Math.cos(radians);
    const uy = Math.sin(radians);
    const reach = Math.hypot(blob.w, blob.h) / 2;
    const [x0, x1] = [Math.max(0, Math.floor(blob.cx - reach)), Math.min(width - 1, Math.ceil(blob.cx + reach))];
    const [y0, y1] = [Math.max(0, Math.floor(blob.cy - reach)), Math.min(height - 1, Math.ceil(blob.cy + reach))];
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const along = (x - blob.cx) * ux + (y - blob.cy) * uy;
        const across = -(x - blob.cx) * uy + (y - blob.cy) * ux;
        if (Math.abs(along) > blob.w / 2 || Math.abs(across) > blob.h / 2) continue;
        data[y * width + x] = typeof blob.value === 'number' ? blob.value : blob.value(along, across);
      }
    }
  }
  return { data, width, height };
}

/** Corners of a rect in reading order (top-left first) for |angle| < 45 degrees. */
function corners(cx: number, cy: number, w: number, h: number, angle: number): Quad {
  const radians = (angle * Math.PI) / 180;
  const u: Point = [Math.cos(radians), Math.sin(radians)];
  const n: Point = [-u[1], u[0]];
  const at = (s: number, t: number): Point => [cx + (u[0] * w * s) / 2 + (n[0] * h * t) / 2, cy + (u[1] * w * s) / 2 + (n[1] * h * t) / 2];
  return [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
}

/**
 * The box DB post-processing should give for a drawn rect: the pixel centres inside a W x H rect
 * span about (W - 0.5) x (H - 0.5) (between W - 1 and W), grown by area * 1.5 / perimeter.
 */
function expectedBox(cx: number, cy: number, w: number, h: number, angle: number): Quad {
  const spanW = w - 0.5;
  const spanH = h - 0.5;
  const distance = (spanW * spanH * 1.5) / (2 * (spanW + spanH));
  return corners(cx, cy, spanW + 2 * distance, spanH + 2 * distance, angle);
}

function assertQuadNear(actual: Quad, expected: Quad, tolerance: number, label: string): void {
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 2; k++) {
      assert.ok(
        Math.abs(actual[i][k] - expected[i][k]) <= tolerance,
        `${label}: corner ${i} is ${JSON.stringify(actual[i])}, expected about ${JSON.stringify(expected[i].map((v) => +v.toFixed(2)))}`,
      );
    }
  }
}

function assertVisionopsError(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => isVisionopsError(error) && error.code === code);
}

test('a filled rect at 0, 5, 30, -20 degrees gives one box on the grown rect, read from its top-left corner', () => {
  for (const angle of [0, 5, 30, -20]) {
    const map = probabilityMap(320, 320, [{ cx: 160.3, cy: 150.6, w: 160, h: 24, angle, value: 0.8 }]);
    const boxes = extractTextBoxes(map, PADDLE, 320, 320);
    assert.equal(boxes.length, 1, `angle ${angle}`);
    const [{ box, score }] = boxes;
    assertQuadNear(box, expectedBox(160.3, 150.6, 160, 24, angle), 1.5, `angle ${angle}`);
    for (const [x, y] of box) assert.ok(Number.isInteger(x) && Number.isInteger(y), 'source corners are whole pixels');
    if (angle === 0) {
      assert.ok(Math.abs(score - 0.8) < 1e-6, `an upright box covers only the blob: ${score}`);
    } else {
      // Rasterising a tilted box also takes in pixels along its outline, as fillPoly does.
      assert.ok(score > 0.72 && score <= 0.8 + 1e-6, `angle ${angle}: score ${score}`);
    }
  }
});

test('a rect at 90 degrees gives an upright box, corners ordered by position not by the text direction', () => {
  const map = probabilityMap(320, 320, [{ cx: 160.3, cy: 150.6, w: 160, h: 24, angle: 90, value: 0.8 }]);
  const [{ box, score }] = extractTextBoxes(map, PADDLE, 320, 320);
  assertQuadNear(box, expectedBox(160.3, 150.6, 24, 160, 0), 1.5, 'vertical');
  assert.ok(Math.abs(score - 0.8) < 1e-6);
});

test('the score is the mean probability inside the box', () => {
  // Columns 20..119 and rows 40..59 hold 0.5 + 0.004 * column offset: a mean of 0.698.
  const map = probabilityMap(200, 100, [{ cx: 69.5, cy: 49.5, w: 99.5, h: 19.5, value: (along) => 0.5 + 0.004 * (along + 49.5) }]);
  const [{ score }] = extractTextBoxes(map, PADDLE, 200, 100);
  assert.ok(Math.abs(score - 0.698) < 1e-6, `score ${score}`);
});

test('a region whose mean probability is under boxThreshold is dropped, one above it kept', () => {
  const faint = probabilityMap(200, 100, [{ cx: 100, cy: 50, w: 120, h: 20, value: 0.5 }]);
  assert.equal(extractTextBoxes(faint, PADDLE, 200, 100).length, 0);
  assert.equal(extractTextBoxes(faint, { ...PADDLE, boxThreshold: 0.45 }, 200, 100).length, 1);
  // Above the binarisation threshold everywhere, but confident only in a thin core.
  const halo = probabilityMap(200, 100, [
    { cx: 100, cy: 50, w: 120, h: 20, value: 0.35 },
    { cx: 100, cy: 50, w: 120, h: 4, value: 0.95 },
  ]);
  assert.equal(extractTextBoxes(halo, PADDLE, 200, 100).length, 0);
});

test('a line a stamp crosses bulges: its rectangle scores under boxThreshold, the region itself (slow mode) does not', () => {
  const map = probabilityMap(300, 100, [
    { cx: 150, cy: 50, w: 240, h: 8, value: 0.9 },
    { cx: 150, cy: 50, w: 40, h: 44, value: 0.9, angle: 30 },
  ]);
  assert.equal(extractTextBoxes(map, PADDLE, 300, 100).length, 0);
  const [kept] = extractTextBoxes(map, { ...PADDLE, scoreMode: 'slow' }, 300, 100);
  assert.ok(kept.score > 0.85, `the region's own mean: ${kept.score}`);
});

test('specks and hairlines shorter than minSize are dropped', () => {
  const map = probabilityMap(200, 100, [
    { cx: 20, cy: 20, w: 2.9, h: 2.9, value: 0.9 }, // 3 x 3 pixels: a short side of 2
    { cx: 100, cy: 20, w: 100, h: 1.9, value: 0.9 }, // 2 pixels thick: a short side of 1
    { cx: 60, cy: 70, w: 4.9, h: 4.9, value: 0.9 }, // 5 x 5 pixels: a short side of 4
  ]);
  const boxes = extractTextBoxes(map, PADDLE, 200, 100);
  assert.equal(boxes.length, 1);
  const [x, y] = boxes[0].box[0];
  assert.ok(Math.abs(x - 56.5) <= 1 && Math.abs(y - 66.5) <= 1, `the 5 x 5 speck is kept: ${JSON.stringify(boxes[0].box)}`);
  assert.equal(extractTextBoxes(map, { ...PADDLE, minSize: 5 }, 200, 100).length, 0);
});

test('two lines one pixel apart stay two boxes; blobs touching at a corner are one region, as findContours sees them', () => {
  const lines = probabilityMap(200, 100, [
    { cx: 100, cy: 30.5, w: 150, h: 19.9, value: 0.9 }, // rows 21..40
    { cx: 100, cy: 51.5, w: 150, h: 19.9, value: 0.9 }, // rows 42..61
  ]);
  const boxes = sortReadingOrder(extractTextBoxes(lines, PADDLE, 200, 100));
  assert.equal(boxes.length, 2);
  assert.ok(boxes[0].box[2][1] < boxes[1].box[2][1]);

  const diagonal = probabilityMap(200, 100, [
    { cx: 49.5, cy: 29.5, w: 59.9, h: 19.9, value: 0.9 }, // columns 20..79, rows 20..39
    { cx: 109.5, cy: 49.5, w: 59.9, h: 19.9, value: 0.9 }, // columns 80..139, rows 40..59
  ]);
  assert.equal(extractTextBoxes(diagonal, { ...PADDLE, boxThreshold: 0.1 }, 200, 100).length, 1);
});

test('a ring gives one box for its outside, none for its hole', () => {
  const map = probabilityMap(100, 100, [
    { cx: 50, cy: 50, w: 40, h: 40, value: 0.9 },
    { cx: 50, cy: 50, w: 28, h: 28, value: BACKGROUND },
  ]);
  const boxes = extractTextBoxes(map, { ...PADDLE, boxThreshold: 0.3 }, 100, 100);
  assert.equal(boxes.length, 1);
  assert.ok(boxes[0].box[0][0] < 30 && boxes[0].box[2][0] > 70);
});

test('boxes are scaled to the source image and clipped to its pixels', () => {
  // Columns 0..59, rows 30..49 of a 100 x 80 map; the grown box runs past the left edge.
  const map = probabilityMap(100, 80, [{ cx: 29.5, cy: 39.5, w: 59.5, h: 19.5, value: 0.9 }]);
  const [{ box }] = extractTextBoxes(map, PADDLE, 400, 240);
  const distance = (59 * 19 * 1.5) / (2 * (59 + 19));
  assert.deepEqual(box, [
    [0, Math.round((30 - distance) * 3)],
    [Math.round((59 + distance) * 4), Math.round((30 - distance) * 3)],
    [Math.round((59 + distance) * 4), Math.round((49 + distance) * 3)],
    [0, Math.round((49 + distance) * 3)],
  ]);
  const edge = probabilityMap(100, 80, [{ cx: 89.5, cy: 69.5, w: 19.5, h: 19.5, value: 0.9 }]);
  const [{ box: clipped }] = extractTextBoxes(edge, PADDLE, 400, 240);
  assert.deepEqual(clipped[2], [399, 239]);
});

test('at most maxCandidates regions are considered, in raster order', () => {
  const blobs: Blob[] = [10, 30, 50, 70, 90].map((cy) => ({ cx: 50, cy, w: 60, h: 10, value: 0.9 }));
  const boxes = extractTextBoxes(probabilityMap(100, 100, blobs), { ...PADDLE, maxCandidates: 3 }, 100, 100);
  assert.equal(boxes.length, 3);
  assert.ok(boxes.every(({ box }) => box[2][1] < 70));
});

test('a full page: 960 x 960 map with 300 lines gives 300 boxes in reading order', () => {
  const blobs: Blob[] = [];
  const expected: Point[] = [];
  for (let row = 0; row < 60; row++) {
    for (let column = 0; column < 5; column++) {
      const cx = 90 + column * 190;
      const cy = 12 + row * 15 + (4 - column); // a line of words rising 4 pixels to the right
      blobs.push({ cx, cy, w: 150, h: 8, value: 0.9 });
      expected.push([cx, cy]);
    }
  }
  const map = probabilityMap(960, 960, blobs);
  const random = seededRandom(7);
  const found = extractTextBoxes(map, PADDLE, 960, 960).sort(() => random() - 0.5);
  const ordered = sortReadingOrder(found);
  assert.equal(ordered.length, 300);
  ordered.forEach(({ box }, i) => {
    const cx = (box[0][0] + box[2][0]) / 2;
    const cy = (box[0][1] + box[2][1]) / 2;
    assert.ok(Math.abs(cx - expected[i][0]) <= 1 && Math.abs(cy - expected[i][1]) <= 1, `box ${i} at ${cx}, ${cy}`);
  });
});

function boxAt(x: number, y: number): DetectedBox {
  return { box: [[x, y], [x + 100, y], [x + 100, y + 20], [x, y + 20]], score: 1 };
}

test('reading order: top to bottom, words of a line left to right though their tops differ by a few pixels', () => {
  const lines = [
    [boxAt(400, 97), boxAt(10, 100), boxAt(200, 104), boxAt(600, 101)],
    [boxAt(10, 140), boxAt(205, 136), boxAt(410, 143)],
    [boxAt(30, 180)],
  ];
  const random = seededRandom(3);
  for (let attempt = 0; attempt < 10; attempt++) {
    const shuffled = lines.flat().sort(() => random() - 0.5);
    const order = sortReadingOrder(shuffled).map(({ box }) => box[0]);
    assert.deepEqual(order, [
      [10, 100], [200, 104], [400, 97], [600, 101],
      [10, 140], [205, 136], [410, 143],
      [30, 180],
    ]);
  }
});

test('minAreaRect: a square turned 45 degrees, a rotated rect with inner points, collinear and single points', () => {
  const diamond = minAreaRect([[0, -1], [1, 0], [0, 1], [-1, 0], [0.2, 0.1]]);
  assert.ok(Math.abs(diamond.width - Math.SQRT2) < 1e-9 && Math.abs(diamond.height - Math.SQRT2) < 1e-9);
  assert.equal(Math.abs(diamond.angle), 45);
  const diamondCorners = rectCorners(diamond).map(([x, y]) => [Math.round(x) + 0, Math.round(y) + 0]);
  assert.deepEqual(diamondCorners, [[0, -1], [1, 0], [0, 1], [-1, 0]]);

  const rect = corners(40, 30, 50, 10, 30);
  const inner: Point[] = [[40, 30], [45, 31], [30, 28]];
  const fitted = minAreaRect([...rect, ...inner]);
  assert.ok(Math.abs(fitted.width - 50) < 1e-9 && Math.abs(fitted.height - 10) < 1e-9);
  assert.ok(Math.abs(fitted.angle - 30) < 1e-9);
  assertQuadNear(rectCorners(fitted), rect, 1e-9, 'rotated rect');

  const line = minAreaRect([[0, 0], [1, 1], [2, 2], [5, 5]]);
  assert.ok(Math.abs(line.width - 5 * Math.SQRT2) < 1e-9);
  assert.equal(line.height, 0);
  assert.equal(line.angle, 45);
  assert.deepEqual(line.center, [2.5, 2.5]);

  assert.deepEqual(minAreaRect([[3, 4], [3, 4]]), { center: [3, 4], width: 0, height: 0, angle: 0 });
});

test('minAreaRect holds every point and beats every other orientation on random clouds', () => {
  const random = seededRandom(11);
  for (let trial = 0; trial < 50; trial++) {
    const points: Point[] = Array.from({ length: 3 + Math.floor(random() * 40) }, () => [random() * 100, random() * 30 + random() * 50]);
    const rect = minAreaRect(points);
    const radians = (rect.angle * Math.PI) / 180;
    const [ux, uy] = [Math.cos(radians), Math.sin(radians)];
    for (const [x, y] of points) {
      const along = (x - rect.center[0]) * ux + (y - rect.center[1]) * uy;
      const across = -(x - rect.center[0]) * uy + (y - rect.center[1]) * ux;
      assert.ok(Math.abs(along) <= rect.width / 2 + 1e-9 && Math.abs(across) <= rect.height / 2 + 1e-9);
    }
    for (let degrees = 0; degrees < 180; degrees += 0.5) {
      const [cx, cy] = [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];
      const along = points.map(([x, y]) => x * cx + y * cy);
      const across = points.map(([x, y]) => -x * cy + y * cx);
      const area = (Math.max(...along) - Math.min(...along)) * (Math.max(...across) - Math.min(...across));
      assert.ok(rect.width * rect.height <= area + 1e-9, `trial ${trial}: ${degrees} degrees does better`);
    }
  }
});

test('convexHull drops inner and collinear points; area and perimeter', () => {
  const hull = convexHull([[0, 0], [2, 0], [4, 0], [4, 3], [2, 1], [0, 3], [1, 2], [4, 0]]);
  assert.deepEqual(hull, [[0, 0], [4, 0], [4, 3], [0, 3]]);
  assert.equal(polygonArea(hull), 12);
  assert.equal(polygonArea(hull.slice().reverse()), 12);
  assert.equal(polygonPerimeter(hull), 14);
  assert.deepEqual(convexHull([[0, 0], [1, 1], [3, 3], [2, 2]]), [[0, 0], [3, 3]]);
});

/** Probabilities for a sequence of (class, probability) steps, the rest spread over the other classes. */
function sequence(steps: [number, number][], classes: number): Float32Array {
  const probs = new Float32Array(steps.length * classes);
  steps.forEach(([best, p], t) => {
    for (let c = 0; c < classes; c++) probs[t * classes + c] = c === best ? p : (1 - p) / (classes - 1);
  });
  return probs;
}

const LETTERS = ['blank', 'h', 'e', 'l', 'o', ' '];

test('CTC: repeats collapse, a blank keeps a double letter, confidence is the mean of the kept characters', () => {
  const hello = sequence([[1, 0.9], [1, 0.8], [2, 0.7], [3, 0.95], [0, 0.6], [3, 0.85], [4, 0.9], [4, 0.5], [0, 0.99]], 6);
  const decoded = ctcGreedyDecode(hello, 9, 6, LETTERS);
  assert.equal(decoded.text, 'hello');
  assert.ok(Math.abs(decoded.confidence - (0.9 + 0.7 + 0.95 + 0.85 + 0.9) / 5) < 1e-6);

  const helo = sequence([[1, 0.9], [2, 0.9], [3, 0.9], [3, 0.9], [4, 0.9]], 6);
  assert.equal(ctcGreedyDecode(helo, 5, 6, LETTERS).text, 'helo');

  const blank = ctcGreedyDecode(sequence([[0, 0.99], [0, 0.98]], 6), 2, 6, LETTERS);
  assert.deepEqual(blank, { text: '', confidence: 0 });

  const batch = new Float32Array([...sequence([[1, 0.9], [5, 0.8], [2, 0.7]], 6), ...sequence([[4, 0.6], [0, 0.9], [4, 0.4]], 6)]);
  const results = ctcGreedyDecodeBatch(batch, 2, 3, 6, LETTERS);
  assert.deepEqual(results.map((r) => r.text), ['h e', 'oo']);
  assert.ok(Math.abs(results[1].confidence - 0.5) < 1e-6);

  assertVisionopsError(() => ctcGreedyDecode(hello, 10, 6, LETTERS), 'INFERENCE_FAILED');
  assertVisionopsError(() => ctcGreedyDecode(hello, 9, 6, LETTERS.slice(0, 5)), 'INFERENCE_FAILED');
});

/** Steps with explicit probabilities for the blank, 'h', 'e', 'l', 'o' and the space (LETTERS' order). */
function steps(rows: number[][]): Float32Array {
  return new Float32Array(rows.flat());
}

test('CTC space boost: a blank step whose space probability, boosted, beats the blank parts two characters', () => {
  // h, a wide gap where the space rises to 0.02 (the blank still wins), e, a step inside a word at 0.001, l, o.
  const probs = steps([
    [0.01, 0.99, 0, 0, 0, 0],
    [0.98, 0, 0, 0, 0, 0.02],
    [0.999, 0, 0, 0, 0, 0.001],
    [0.01, 0, 0.99, 0, 0, 0],
    [0.999, 0, 0, 0, 0, 0.001],
    [0.01, 0, 0, 0.99, 0, 0],
    [0.999, 0, 0, 0, 0, 0.001],
    [0.01, 0, 0, 0, 0.99, 0],
  ]);
  assert.equal(ctcGreedyDecode(probs, 8, 6, LETTERS).text, 'helo', 'plain greedy decoding drops the space');
  const boosted = ctcGreedyDecode(probs, 8, 6, LETTERS, { spaceBoost: 100 });
  assert.equal(boosted.text, 'h elo', 'x100 lifts 0.02 over 0.98 but not 0.001 over 0.999');
  assert.ok(Math.abs(boosted.confidence - 0.99) < 1e-6, 'a boosted space does not count towards the confidence');
  assert.equal(ctcGreedyDecode(probs, 8, 6, LETTERS, { spaceBoost: 10 }).text, 'helo');
});

test('CTC space boost: inside letter-spaced print a faint space at the ordinary pitch is no word break, a sure one is', () => {
  // h e l o at an even pitch of two steps; the space rises between e and l to `share` of the blank.
  const spaced = (share: number) =>
    steps([
      [0.01, 0.99, 0, 0, 0, 0],
      [0.9, 0, 0, 0, 0, 0.0009],
      [0.01, 0, 0.99, 0, 0, 0],
      [1 / (1 + share), 0, 0, 0, 0, share / (1 + share)],
      [0.01, 0, 0, 0.99, 0, 0],
      [0.9, 0, 0, 0, 0, 0.0009],
      [0.01, 0, 0, 0, 0.99, 0],
    ]);
  assert.equal(ctcGreedyDecode(spaced(0.05), 7, 6, LETTERS, { spaceBoost: 100 }).text, 'helo', 'boosted past the blank, but at the pitch and faint');
  assert.equal(ctcGreedyDecode(spaced(0.5), 7, 6, LETTERS, { spaceBoost: 100 }).text, 'he lo', 'half the blank: sure');
  assert.equal(ctcGreedyDecode(spaced(0.05), 7, 6, LETTERS, { spaceBoost: 100, sureSpace: 0.04 }).text, 'he lo');
});

test('CTC space boost: after a comma or a full stop a faint space at the pitch is a word break, after a decimal point it is not', () => {
  const alphabet = ['blank', '1', '.', '4', 'a', ',', 'b', ' '];
  // Characters at an even pitch of two steps; between the 2nd and 3rd the space rises to 0.05 of the blank.
  const line = (classes: number[]) =>
    new Float32Array(
      classes.flatMap((c, i) => {
        const character = Array.from({ length: 8 }, (_, k) => (k === c ? 0.99 : k === 0 ? 0.01 : 0));
        const share = i === 1 ? 0.05 : 0.0009;
        const gap = Array.from({ length: 8 }, (_, k) => (k === 0 ? 1 / (1 + share) : k === 7 ? share / (1 + share) : 0));
        return i === classes.length - 1 ? character : [...character, ...gap];
      }),
    );
  const read = (classes: number[]) => ctcGreedyDecode(line(classes), classes.length * 2 - 1, 8, alphabet, { spaceBoost: 100 }).text;
  assert.equal(read([4, 5, 6]), 'a, b');
  assert.equal(read([4, 2, 6]), 'a. b');
  assert.equal(read([1, 2, 3, 3]), '1.44');
  assert.equal(read([4, 6, 4]), 'aba', 'between letters the pitch is no break');
});

/**
 * A recogniser's output for a line of cells: a character's class, then `blanks` steps where the
 * blank wins and the space (the alphabet's last class) rises to `share` of it; a character whose
 * class is the space is a space the model wrote itself.
 */
function spacedLine(alphabet: string[], cells: { cls: number; blanks: number; share: number }[]): { probs: Float32Array; steps: number } {
  const space = alphabet.length - 1;
  const rows = cells.flatMap(({ cls, blanks, share }) => [
    alphabet.map((_, k) => (k === cls ? 0.99 : k === 0 ? 0.01 : 0)),
    ...Array.from({ length: blanks }, () => alphabet.map((_, k) => (k === 0 ? 1 / (1 + share) : k === space ? share / (1 + share) : 0))),
  ]);
  return { probs: new Float32Array(rows.flat()), steps: rows.length };
}

test('CTC space boost: before a colon a faint space at the pitch is the gap monospaced print sets there', () => {
  const alphabet = ['blank', 'L', ':', 'A', ' '];
  const read = (classes: number[]) => {
    // An even pitch of two steps; the space rises to 0.05 of the blank before the last character.
    const cells = classes.map((cls, i) => ({ cls, blanks: i === classes.length - 1 ? 0 : 1, share: i === classes.length - 2 ? 0.05 : 0.0009 }));
    const { probs, steps } = spacedLine(alphabet, cells);
    return ctcGreedyDecode(probs, steps, alphabet.length, alphabet, { spaceBoost: 100 }).text;
  };
  assert.equal(read([3, 1, 1, 2]), 'ALL :');
  assert.equal(read([3, 1, 1, 3]), 'ALLA', 'between letters the pitch is no break');
  assert.equal(read([3, 1, 2, 3]), 'AL: A', 'after a colon, as before');
});

test('CTC space boost: on a line where the model wrote breaks itself, a faint space narrower than they are stays inside the word', () => {
  const alphabet = ['blank', 'P', 'A', 'R', 'K', ' '];
  const faint = 0.05;
  // "PA RK" at a pitch of two steps: the break after A is the model's own space, a whole cell wide
  // (4 steps, monospaced print) or narrower (3 steps, proportional print), or only a faint boosted
  // space; between R and K a faint space over `gap` steps.
  const read = (between: 'cell' | 'narrow' | 'faint', gap: number, share = faint) => {
    const breakCells = between === 'faint' ? [{ cls: 2, blanks: 3, share }] : [{ cls: 2, blanks: 0, share: 0 }, { cls: 5, blanks: between === 'cell' ? 2 : 1, share: 0.0009 }];
    const cells = [{ cls: 1, blanks: 1, share: 0.0009 }, ...breakCells, { cls: 3, blanks: gap - 1, share }, { cls: 4, blanks: 1, share: 0.0009 }, { cls: 1, blanks: 0, share: 0 }];
    const { probs, steps } = spacedLine(alphabet, cells);
    return ctcGreedyDecode(probs, steps, alphabet.length, alphabet, { spaceBoost: 100 }).text;
  };
  assert.equal(read('faint', 3), 'PA R KP', 'no break of its own on the line: a gap wider than the pitch parts');
  assert.equal(read('cell', 3), 'PA RKP', "the model's own breaks are a whole cell: a faint gap narrower is letter-spacing");
  assert.equal(read('cell', 4), 'PA R KP', 'as wide as the own break: parts');
  assert.equal(read('cell', 3, 0.5), 'PA R KP', 'a sure space parts');
  assert.equal(read('narrow', 3), 'PA R KP', 'proportional print parts words by less than a cell');
});

test('CTC space boost: no space before the first or after the last character, and none beside one the model wrote', () => {
  const probs = steps([
    [0.9, 0, 0, 0, 0, 0.1],
    [0.01, 0.99, 0, 0, 0, 0],
    [0.2, 0, 0, 0, 0, 0.8],
    [0.9, 0, 0, 0, 0, 0.1],
    [0.01, 0, 0, 0, 0.99, 0],
    [0.9, 0, 0, 0, 0, 0.1],
  ]);
  assert.equal(ctcGreedyDecode(probs, 6, 6, LETTERS, { spaceBoost: 100 }).text, 'h o');
  assert.equal(ctcGreedyDecode(probs, 6, 6, LETTERS).text, 'h o');
  // Two letters in a row with no blank step between them stay together.
  const word = steps([
    [0.01, 0.99, 0, 0, 0, 0],
    [0.01, 0, 0, 0, 0.99, 0],
  ]);
  assert.equal(ctcGreedyDecode(word, 2, 6, LETTERS, { spaceBoost: 1000 }).text, 'ho');
});

test('CTC ASCII forms: full-width punctuation beside ASCII becomes ASCII, beside Chinese it stays', () => {
  const alphabet = ['blank', 'k', '（', 'l', '！', '中', '文', ' '];
  const read = (classes: number[], options = { asciiForms: true }) => {
    const probs = new Float32Array(classes.length * alphabet.length);
    classes.forEach((c, t) => (probs[t * alphabet.length + c] = 1));
    return ctcGreedyDecode(probs, classes.length, alphabet.length, alphabet, options).text;
  };
  assert.equal(read([1, 7, 2, 3, 4]), 'k (l!');
  assert.equal(read([5, 2, 6, 4]), '中（文！');
  assert.equal(read([2, 0, 4]), '（！', 'no ASCII neighbour');
  assert.equal(read([1, 7, 2, 3, 4], { asciiForms: false }), 'k （l！');
});

test('topClass picks the highest score and refuses labels that do not match the scores', () => {
  assert.deepEqual(topClass(new Float32Array([0.25, 0.75]), ['0', '180']), { label: '180', index: 1, confidence: 0.75 });
  assert.deepEqual(topClass([0.4, 0.4, 0.2], ['a', 'b', 'c']), { label: 'a', index: 0, confidence: 0.4 });
  assertVisionopsError(() => topClass([0.5, 0.5], ['0']), 'INFERENCE_FAILED');
});

/** A frame filled by `paint(x, y)` -> channel values. */
function frameOf(width: number, height: number, channels: 3 | 4, paint: (x: number, y: number) => number[]): Frame {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * channels);
  return { width, height, channels, data };
}

function pixel(frame: Frame, x: number, y: number): number[] {
  const at = (y * frame.width + x) * frame.channels;
  return Array.from(frame.data.subarray(at, at + frame.channels));
}

const RED = [220, 20, 30];
const BLUE = [20, 40, 210];
const WHITE = [255, 255, 255];

function near(actual: number[], expected: number[], tolerance: number): boolean {
  return expected.every((v, i) => Math.abs(actual[i] - v) <= tolerance);
}

test('cropQuad of an upright quad with whole-pixel corners copies the pixels exactly', () => {
  const frame = frameOf(50, 40, 3, (x, y) => [(x * 5 + y * 3) % 256, x * 4, y * 6]);
  const crop = cropQuad(frame, [[10, 5], [30, 5], [30, 15], [10, 15]]);
  assert.equal(crop.width, 20);
  assert.equal(crop.height, 10);
  assert.equal(crop.channels, 3);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) assert.deepEqual(pixel(crop, x, y), pixel(frame, 10 + x, 5 + y));
});

test('cropQuad straightens a tilted rectangle: size from its sides, left part on the left', () => {
  // A 125 x 30 rectangle along (4, 3) / 5: whole-pixel corners, left half red, right half blue.
  const quad: Quad = [[50, 20], [150, 95], [132, 119], [32, 44]];
  const frame = frameOf(200, 150, 3, (x, y) => {
    const along = ((x - 50) * 4 + (y - 20) * 3) / 5;
    const across = (-(x - 50) * 3 + (y - 20) * 4) / 5;
    if (along < 0 || along > 125 || across < 0 || across > 30) return WHITE;
    return along < 62.5 ? RED : BLUE;
  });
  const crop = cropQuad(frame, quad);
  assert.equal(crop.width, 125);
  assert.equal(crop.height, 30);
  let red = 0;
  let blue = 0;
  for (let y = 2; y < 28; y++) {
    for (let x = 2; x < 123; x++) {
      if (x < 60 && near(pixel(crop, x, y), RED, 2)) red++;
      if (x > 65 && near(pixel(crop, x, y), BLUE, 2)) blue++;
    }
  }
  assert.equal(red, 58 * 26, 'the left part is red');
  assert.equal(blue, 57 * 26, 'the right part is blue');
});

test('cropQuad turns a tall crop a quarter counter-clockwise, keeps RGBA, and repeats edge pixels outside the frame', () => {
  // 30 wide, 125 tall, top half red: after np.rot90 the top is on the left.
  const frame = frameOf(120, 160, 4, (x, y) => (x < 50 || x >= 80 || y < 10 || y >= 135 ? [...WHITE, 255] : y < 72 ? [...RED, 200] : [...BLUE, 100]));
  const crop = cropQuad(frame, [[50, 10], [80, 10], [80, 135], [50, 135]]);
  assert.equal(crop.width, 125);
  assert.equal(crop.height, 30);
  assert.equal(crop.channels, 4);
  assert.deepEqual(pixel(crop, 10, 15), [...RED, 200]);
  assert.deepEqual(pixel(crop, 110, 15), [...BLUE, 100]);
  // np.rot90: output column j is input row j, output row i is input column width - 1 - i.
  assert.deepEqual(pixel(crop, 0, 0), pixel(frame, 79, 10));

  assert.equal(cropQuad(frame, [[0, 0], [20, 0], [20, 30], [0, 30]]).width, 30, 'a ratio of exactly 1.5 turns');
  assert.equal(cropQuad(frame, [[0, 0], [20, 0], [20, 29], [0, 29]]).width, 20, 'just under 1.5 does not');

  const plain = frameOf(20, 20, 3, () => [7, 8, 9]);
  const outside = cropQuad(plain, [[-5, -5], [25, -5], [25, 10], [-5, 10]]);
  for (let y = 0; y < outside.height; y++) for (let x = 0; x < outside.width; x++) assert.deepEqual(pixel(outside, x, y), [7, 8, 9]);
});

test('a stepped line cut piece by piece (warpQuad, never turned) and set side by side is one straight line', () => {
  // Two red bars 10 px tall, the second 6 px lower: cut at their own heights, they line up.
  const frame = frameOf(60, 40, 3, (x, y) => ((x >= 5 && x < 25 && y >= 10 && y < 20) || (x >= 30 && x < 40 && y >= 16 && y < 26) ? RED : WHITE));
  const first = warpQuad(frame, [[5, 10], [25, 10], [25, 20], [5, 20]]);
  // Narrower than tall by more than 1.5 times: cropQuad would turn it, warpQuad does not.
  const second = warpQuad(frame, [[30, 16], [36, 16], [36, 26], [30, 26]]);
  assert.deepEqual([second.width, second.height], [6, 10]);
  const line = sideBySide([first, { ...second, height: 9, data: second.data.subarray(0, 6 * 9 * 3) }]);
  assert.deepEqual([line.width, line.height, line.channels], [26, 10, 3]);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 26; x++) assert.deepEqual(pixel(line, x, y), RED, `(${x}, ${y})`);
});
