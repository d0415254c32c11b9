import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { textSkewDegrees } from '../src/core/postprocess/geometry.js';
import { photographedPage, photographedPageLines, photographedReceipt } from './fixtures/captures.js';
import { wordMatch, words } from './fixtures/word-scores.js';
import { documentReader } from './helpers/document-reader.js';

const { read } = documentReader();

test('a phone photo of an A4 page lying at 80 degrees (sideways, a little tilted) reads as a level one does, its boxes on the photo as taken', async () => {
  const spec = { seed: 3, degrees: 80, keystone: 0.1, longSide: 2400, accents: true };
  const photo = await photographedPage(spec);
  const printed = photographedPageLines(spec);
  const result = await read(photo);
  const f1 = wordMatch(words(result.text), words([...printed.heading, ...printed.body, ...printed.accented, ...printed.small].join('\n'))).f1;
  // Before the page was straightened, its tilted lines ran into their neighbours: word F1 0.664.
  assert.ok(f1 >= 0.9, `word F1 ${f1.toFixed(3)}\n${result.text}`);
  assert.ok(result.lines.some((line) => line.text === printed.heading[0]), `the heading is one line:\n${result.text}`);

  const { width, height } = await sharp(photo).metadata();
  const boxes = result.lines.map((line) => line.box);
  const skew = textSkewDegrees(boxes);
  assert.ok(Math.abs(skew - spec.degrees) < 5, `the lines' boxes run as the page lies in the photo (${skew.toFixed(1)} degrees), not as the straightened copy did`);
  for (const point of boxes.flat()) assert.ok(point[0] > -5 && point[1] > -5 && point[0] < (width ?? 0) + 5 && point[1] < (height ?? 0) + 5, `${point} lies on the photo`);
});

test('a phone photo of a thermal receipt, curled, half in shadow, held by a thumb: every printed line comes out as one line', async () => {
  for (const spec of [
    { seed: 14, degrees: -2, curl: 0.05, thumb: true },
    { seed: 18, degrees: -8, curl: 0.04, shadow: 0.35 },
  ]) {
    const receipt = await photographedReceipt(spec);
    const result = await read(receipt.image);
    const lines = result.lines.map((line) => line.text.toUpperCase().replace(/\s+/g, ''));
    const missed = receipt.lines.filter((printed) => !lines.some((line) => line.includes(printed.replace(/\s+/g, ''))));
    assert.deepEqual(missed, [], `seed ${spec.seed}: printed lines not read as one line\n${result.lines.map((l) => l.text).join('\n')}`);
  }
});
