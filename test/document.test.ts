import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Frame } from '../src/core/frame.js';
import { asJpeg, characterErrorRate, FONTS, randomLines, renderDocument, rotated, seededRandom, withGrain } from './fixtures/documents.js';
import { documentReader } from './helpers/document-reader.js';

const { pipeline, read } = documentReader();

/** A page in one of the fonts, slightly skewed and JPEG-compressed, and the text it holds. */
async function page(seed: number, fontSize: number): Promise<{ image: Buffer; text: string }> {
  const random = seededRandom(seed);
  const lines = randomLines(seed, 5);
  const png = await renderDocument({ lines, fontSize, font: FONTS[seed % FONTS.length], width: 1000, skewDegrees: (random() - 0.5) * 3 });
  return { image: await asJpeg(png, 75), text: lines.join('\n') };
}

test('pages in three fonts and four sizes, skewed and JPEG-compressed, read with under 3% character errors', async () => {
  let errors = 0;
  let characters = 0;
  for (const [i, fontSize] of [18, 24, 32, 40].entries()) {
    const { image, text } = await page(100 + i, fontSize);
    const result = await read(image);
    const cer = characterErrorRate(text, result.text);
    assert.ok(cer < 0.1, `${fontSize} px page: CER ${cer.toFixed(3)}\n${text}\n---\n${result.text}`);
    errors += cer * text.length;
    characters += text.length;
    assert.equal(result.orientation.rotation, 0);
    for (const line of result.lines) {
      assert.ok(line.confidence > 0 && line.confidence <= 1);
      assert.equal(line.box.length, 4);
    }
  }
  assert.ok(errors / characters < 0.03, `CER ${(errors / characters).toFixed(4)} over ${characters} characters`);
});

test('small print with punctuation on grainy off-white paper keeps its word breaks', async () => {
  const pages = [
    { font: 'Tinos', fontSize: 16, lines: ['Return by 14/02 with this slip, or call 0800 555 0199.', 'Item: desk lamp (white), ref. DL-3307', 'Paid $42.50 by card; change $0.00'] },
    { font: 'DejaVu Sans Condensed', fontSize: 20, lines: ['Dose: 2 tablets twice a day, after meals', 'Do not exceed 8 in 24 hours!', 'Rx #558-1204 refills: 3'] },
  ];
  let errors = 0;
  let characters = 0;
  for (const [i, spec] of pages.entries()) {
    const png = await renderDocument({ ...spec, width: spec.fontSize * 36, skewDegrees: i === 0 ? 0.8 : -1.1, background: '#fdfcf7', ink: '#1a1a1a' });
    const text = spec.lines.join('\n');
    const result = await read(await asJpeg(await withGrain(png, 24, 7 + i), 70));
    errors += characterErrorRate(text, result.text) * text.length;
    characters += text.length;
    const breaks = (t: string) => t.split(' ').length;
    assert.ok(Math.abs(breaks(result.text) - breaks(text)) <= 1, `word breaks read, all but one at most:\n${text}\n---\n${result.text}`);
  }
  assert.ok(errors / characters < 0.03, `CER ${(errors / characters).toFixed(4)} over ${characters} characters`);
});

test('lines come in reading order, each with a box around its own text', async () => {
  const lines = ['First line of the page', 'Second line: 1024.50', 'Third line 77120 end'];
  const result = await read(await renderDocument({ lines, width: 900 }));
  assert.deepEqual(
    result.lines.map((line) => line.text),
    lines,
  );
  const tops = result.lines.map((line) => Math.min(...line.box.map(([, y]) => y)));
  assert.ok(tops[0] < tops[1] && tops[1] < tops[2], `tops ${tops.join(', ')}`);
});

test('a page turned 90, 180 or 270 degrees is turned back and reads as upright', async () => {
  const { image, text } = await page(200, 28);
  for (const degrees of [90, 180, 270] as const) {
    const result = await read(await rotated(image, degrees));
    const cer = characterErrorRate(text, result.text);
    assert.ok(cer < 0.03, `turned ${degrees}: CER ${cer.toFixed(3)}\n${result.text}`);
    assert.equal(result.orientation.rotation, (360 - degrees) % 360, `turned ${degrees}`);
    assert.ok(['boxes', 'classifier'].includes(result.orientation.source));
  }
});

test('an EXIF orientation is applied before the models, and the result says so', async () => {
  const { image, text } = await page(300, 28);
  // Pixels stored turned a quarter counter-clockwise, tagged 6: viewers turn them clockwise to show them upright.
  const stored = await sharp(image).rotate(270).withMetadata({ orientation: 6 }).jpeg({ quality: 90 }).toBuffer();
  const result = await read(stored);
  assert.ok(characterErrorRate(text, result.text) < 0.03, result.text);
  assert.equal(result.orientation.source, 'exif');
  assert.equal(result.orientation.rotation, 0);
  assert.deepEqual(result.orientation.exif, { tag: 6, rotation: 90, corrected: false });
});

test('EXIF that contradicts the text: tagged 180 for a page that lies sideways once turned, the text turns it upright and both are kept', async () => {
  const { image, text } = await page(310, 28);
  // What a phone held sideways writes: applying the tag (3, a half turn) leaves the page on its side.
  const stored = await sharp(image).rotate(90).withMetadata({ orientation: 3 }).jpeg({ quality: 90 }).toBuffer();
  const result = await read(stored);
  assert.ok(characterErrorRate(text, result.text) < 0.03, result.text);
  assert.ok(['exif+boxes', 'exif+classifier'].includes(result.orientation.source), result.orientation.source);
  assert.equal(result.orientation.rotation, 90, 'ingest turned it 180 (the tag), the text a further 90');
  assert.deepEqual(result.orientation.exif, { tag: 3, rotation: 180, corrected: true });
});

test('lines are printed rows: a label and its amount far apart on one line come out as one line, with their segments', async () => {
  const rows = ['SUBTOTAL', 'TAX', 'TOTAL'].map((label, i) => ({ label, amount: `$${(32.1 + i * 4.08).toFixed(2)}`, y: 60 + i * 34 }));
  const texts = rows.map(({ label, amount, y }) => `<text x="30" y="${y}" font-family="DejaVu Sans Mono" font-size="22">${label}</text><text x="560" y="${y}" font-family="DejaVu Sans Mono" font-size="22">${amount}</text>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="170"><rect width="100%" height="100%" fill="#fff"/>${texts.join('')}</svg>`;
  const result = await read(await asJpeg(await sharp(Buffer.from(svg)).png().toBuffer(), 85));
  assert.deepEqual(
    result.lines.map((line) => line.text),
    rows.map(({ label, amount }) => `${label} ${amount}`),
  );
  for (const line of result.lines) {
    assert.equal(line.segments?.length, 2, JSON.stringify(line));
    assert.equal(line.confidence, Math.min(...(line.segments ?? []).map((s) => s.confidence)));
  }
});

test('small print the 0/180 classifier calls upside down is not turned over when it reads better as it is', async () => {
  // 16 px lines filling half to most of a 1200 px page: the classifier votes 180 for most of them.
  const random = seededRandom(16);
  const words = randomLines(16, 60).join(' ').split(' ');
  const lines: string[] = [];
  for (let i = 0, w = 0; i < 6; i++) {
    const target = (1152 / (0.62 * 16)) * (0.45 + 0.5 * random());
    let line = '';
    while (line.length < target) line += (line ? ' ' : '') + words[w++];
    lines.push(line);
  }
  const result = await read(await renderDocument({ lines, fontSize: 16, width: 1200 }));
  assert.equal(result.orientation.rotation, 0);
  assert.ok(characterErrorRate(lines.join('\n'), result.text) < 0.03, result.text);
});

test('a frame without text reads as no lines', async () => {
  const frame: Frame = { width: 640, height: 480, channels: 3, data: new Uint8Array(640 * 480 * 3).fill(240) };
  const { result, timings } = await pipeline().read(frame, { exifOrientation: 0 });
  assert.deepEqual(result.lines, []);
  assert.equal(result.text, '');
  assert.ok(timings.detection > 0);
});

test('the pipeline names each model with its weights hash and preprocessing hash', () => {
  assert.deepEqual(
    pipeline().models.map((model) => model.role),
    ['detection', 'orientation', 'recognition'],
  );
  for (const model of pipeline().models) {
    assert.match(model.sha256, /^[0-9a-f]{64}$/);
    assert.match(model.preprocessHash, /^[0-9a-f]{64}$/);
    assert.ok(model.id.length > 0 && model.version.length > 0);
  }
  assert.equal(new Set(pipeline().models.map((model) => model.preprocessHash)).size, 3, 'each stage has its own preprocessing');
});
