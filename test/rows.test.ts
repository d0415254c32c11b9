import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Point, Quad } from '../src/core/postprocess/geometry.js';
import { groupRows, type Segment } from '../src/core/postprocess/rows.js';
import { splitPieces } from '../src/core/postprocess/split-pieces.js';

/** A box `width` x `height` whose top-left corner is at (x, y), turned `degrees` clockwise about that corner. */
function box(x: number, y: number, width: number, height: number, degrees = 0): Quad {
  const a = (degrees * Math.PI) / 180;
  const [c, s] = [Math.cos(a), Math.sin(a)];
  const at = (u: number, v: number): Point => [x + u * c - v * s, y + u * s + v * c];
  return [at(0, 0), at(width, 0), at(width, height), at(0, height)];
}

function segment(text: string, quad: Quad, confidence = 0.99): Segment {
  return { text, confidence, box: quad };
}

test('a label and its amount far apart on one printed line are one row, whatever order they come in', () => {
  // The amount of the line above sits a little lower than its label: sorting by the top corner
  // once put it after the next line's label.
  const segments = [
    segment('SUBTOTAL', box(20, 100, 140, 24)),
    segment('TOTAL', box(20, 130, 90, 24)),
    segment('$32.10', box(400, 104, 90, 24)),
    segment('$36.26', box(400, 134, 90, 24), 0.8),
  ];
  const rows = groupRows(segments);
  assert.deepEqual(
    rows.map((r) => r.text),
    ['SUBTOTAL $32.10', 'TOTAL $36.26'],
  );
  assert.equal(rows[1].confidence, 0.8, 'a row is as sure as its least sure segment');
  assert.deepEqual(
    rows[1].segments.map((s) => s.text),
    ['TOTAL', '$36.26'],
  );
  const [topLeft, , bottomRight] = rows[1].box;
  assert.ok(Math.abs(topLeft[0] - 20) < 1e-6 && Math.abs(topLeft[1] - 130) < 1e-6 && Math.abs(bottomRight[0] - 490) < 1e-6 && Math.abs(bottomRight[1] - 158) < 1e-6, JSON.stringify(rows[1].box));
});

test('a page tilted 6 degrees keeps its rows, though a line drops more across the page than the line spacing', () => {
  const angle = 6;
  const slope = Math.tan((angle * Math.PI) / 180);
  const segments: Segment[] = [];
  for (let line = 0; line < 5; line++) {
    for (let column = 0; column < 3; column++) {
      const x = 30 + column * 300;
      // Lines 30 px apart; the text falls 31 px over 300 px.
      segments.push(segment(`r${line}c${column}`, box(x, 40 + line * 30 + slope * (x - 30), 200, 20, angle)));
    }
  }
  const rows = groupRows(segments.reverse());
  assert.deepEqual(
    rows.map((r) => r.text),
    [0, 1, 2, 3, 4].map((line) => `r${line}c0 r${line}c1 r${line}c2`),
  );
});

test('a curled receipt: each line bends down at its right end and still comes out whole, in order', () => {
  const segments: Segment[] = [];
  for (let line = 0; line < 6; line++) {
    const y = 50 + line * 28;
    segments.push(segment(`item${line}`, box(20, y, 160, 20)));
    segments.push(segment(`qty${line}`, box(200, y + 6, 60, 20, 4)));
    // The right end curls away: 14 px lower than the label, half the line spacing.
    segments.push(segment(`${line}.99`, box(300, y + 14, 70, 20, 8)));
  }
  const rows = groupRows(segments);
  assert.deepEqual(
    rows.map((r) => r.text),
    [0, 1, 2, 3, 4, 5].map((line) => `item${line} qty${line} ${line}.99`),
  );
});

test('curled paper: a label whose box tilts against its line and its amount lower than the page says are one row', () => {
  // Item lines rise 2 degrees across the page; at the foot the paper curls down to the right, so
  // the amount sits 24 px (most of a line's height) below where the page's direction puts it, and
  // the label's box tilts the other way, steeper than the curl.
  const segments: Segment[] = [];
  for (let line = 0; line < 6; line++) {
    const y = 60 + line * 32;
    segments.push(segment(`item${line}`, box(20, y, 220, 24, -2)));
    segments.push(segment(`${line}.49`, box(440, y - 15, 90, 24, -2)));
  }
  segments.push(segment('TOTAL', box(20, 260, 110, 28, 6)));
  segments.push(segment('$77.98', box(330, 260 - 13 + 24, 180, 28, -2)));
  const rows = groupRows(segments);
  assert.deepEqual(
    rows.map((r) => r.text),
    [...[0, 1, 2, 3, 4, 5].map((line) => `item${line} ${line}.49`), 'TOTAL $77.98'],
  );
});

test('a heading is not joined to the small print beside it, and lines one above another stay apart', () => {
  const rows = groupRows([
    segment('INVOICE', box(20, 20, 300, 60)),
    segment('No. 1234', box(400, 40, 120, 20)),
    segment('first', box(20, 100, 100, 20)),
    segment('second', box(20, 124, 100, 20)),
  ]);
  assert.deepEqual(
    rows.map((r) => r.text),
    ['INVOICE', 'No. 1234', 'first', 'second'],
  );
});

test('no segments, no rows; one segment, one row holding it', () => {
  assert.deepEqual(groupRows([]), []);
  const only = segment('alone', box(5, 5, 50, 10));
  const rows = groupRows([only]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].text, 'alone');
  assert.deepEqual(rows[0].segments, [only]);
});

test('a crease steps an amount down by most of its height: its two pieces, nearly touching, stay on their row', () => {
  // "153" and ".45" 40 px high, the second 26 px lower (an overlap of 0.35) and 3 px after the first.
  const rows = groupRows([
    segment('TOTAL', box(20, 100, 120, 40)),
    segment('153', box(440, 100, 54, 40)),
    segment('.45', box(497, 126, 54, 40)),
    // The next line starts well after the amount above ends: a line of its own.
    segment('THANK YOU', box(20, 150, 200, 40)),
    segment('CALL AGAIN', box(300, 176, 200, 40)),
  ]);
  assert.deepEqual(
    rows.map((r) => r.text),
    ['TOTAL 153 .45', 'THANK YOU', 'CALL AGAIN'],
  );
});

test('pieces of a row closer than half their height, or overlapping, are read again as one stretch; a column apart is not', () => {
  const [row] = groupRows([
    segment('TOTAL', box(20, 100, 120, 24)),
    segment('7', box(400, 102, 30, 18)),
    segment('80', box(440, 98, 70, 26)),
    segment('S', box(560, 100, 20, 24)),
  ]);
  const runs = splitPieces(row);
  assert.deepEqual(
    runs.map((run) => run.segments.map((s) => s.text)),
    [['7', '80']],
  );
  const [run] = runs;
  // One read box a piece, as tall as the tallest, meeting halfway across the 10 px gap; the run
  // widened by half its height at each end (13 px), as far as its neighbours allow.
  assert.equal(run.readBoxes.length, 2);
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  const [first, second] = run.readBoxes;
  assert.ok(close(first[0][0], 400 - 13) && close(first[1][0], 435) && close(second[0][0], 435) && close(second[1][0], 510 + 13), JSON.stringify(run.readBoxes));
  for (const readBox of run.readBoxes) assert.ok(close(readBox[3][1] - readBox[0][1], 26), JSON.stringify(readBox));
  assert.ok(close(first[0][1], 111 - 13) && close(second[0][1], 111 - 13), 'each piece at its own height on the page');
  assert.ok(close(run.box[0][0], 400) && close(run.box[2][0], 510) && close(run.box[0][1], 98) && close(run.box[2][1], 124), JSON.stringify(run.box));

  const [overlapping] = groupRows([segment('71.1', box(400, 100, 80, 24)), segment('80', box(470, 100, 60, 24))]);
  assert.deepEqual(
    splitPieces(overlapping).map((r) => r.segments.map((s) => s.text)),
    [['71.1', '80']],
  );
});
