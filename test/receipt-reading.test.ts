import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderThermalReceipt } from './fixtures/receipts.js';
import { wordMatch, words } from './fixtures/word-scores.js';
import { documentReader } from './helpers/document-reader.js';

const { read } = documentReader();

test('letter-spaced thermal receipts: words are not broken, amounts keep their decimal points, the double-height total is one line', async () => {
  for (const [seed, options] of [
    [1, {}],
    [2, { font: 'Cousine', letterSpacing: 4 }],
    // Small print spaced wide: the recogniser's space rises inside words at the letters' pitch
    // ("WHO LEMEAL" before pipeline 1.5.0).
    [15, { font: 'Cousine', fontSize: 13, letterSpacing: 6 }],
  ] as const) {
    const receipt = await renderThermalReceipt(seed, options);
    const result = await read(receipt.image);
    const truth = words(receipt.lines.join(' '));
    const got = words(result.text);
    const printed = new Set(truth);
    // A printed word read as two tokens ("PARK ING", "12. 90") is the failure this guards against.
    const broken = got.slice(1).filter((w, i) => printed.has(got[i] + w) && !printed.has(w));
    assert.deepEqual(broken, [], `seed ${seed}: words read in pieces\n${result.text}`);
    const f1 = wordMatch(got, truth).f1;
    assert.ok(f1 >= 0.95, `seed ${seed}: word F1 ${f1.toFixed(3)}\n${receipt.lines.join('\n')}\n---\n${result.text}`);
    for (const amount of receipt.lines.map((line) => line.split(' ').pop() as string)) assert.ok(got.includes(amount), `seed ${seed}: amount ${amount} not read whole\n${result.text}`);
    assert.ok(
      result.lines.some((line) => line.text.toUpperCase() === receipt.total),
      `seed ${seed}: "${receipt.total}" is not one line:\n${result.lines.map((l) => l.text).join('\n')}`,
    );
  }
});

test('a crease steps the total amount down at its decimal point: the detector cuts it in two, and it is read whole on the total line', async () => {
  // Stepped by 26 or 28 px on a 40 px line, the amount's two pieces are boxed apart; before
  // pipeline 1.7.0 they came out as "TOTAL 153" and ".45" on two lines.
  for (const [seed, step] of [
    [1, 13],
    [2, 14],
    [3, 13],
  ] as const) {
    const receipt = await renderThermalReceipt(seed, { creasedTotal: step });
    const result = await read(receipt.image);
    const total = result.lines.find((line) => line.text.toUpperCase().startsWith('TOTAL'));
    assert.equal(total?.text.toUpperCase(), receipt.total, `seed ${seed}:\n${result.lines.map((l) => l.text).join('\n')}`);
  }
});
