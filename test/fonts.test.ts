import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { escapeXml } from '../scripts/varied-pages.js';
import { FIXTURE_FONTS } from './fixtures/fonts.js';

const SAMPLE = 'Return by 14/02, ref. DL-3307: $42.50';

async function drawn(family: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="48"><rect width="100%" height="100%" fill="#fff"/><text x="8" y="34" font-family="${escapeXml(family)}" font-size="28">${escapeXml(SAMPLE)}</text></svg>`;
  return sharp(Buffer.from(svg)).greyscale().raw().toBuffer();
}

test('each font the fixtures name draws glyphs of its own (fontconfig would put another in its place without a word)', async () => {
  const drawings = await Promise.all(FIXTURE_FONTS.map(drawn));
  const fallback = await drawn('No Such Family');
  for (let i = 0; i < FIXTURE_FONTS.length; i++) {
    assert.ok(drawings[i].some((value) => value < 128), `${FIXTURE_FONTS[i]} draws ink`);
    // DejaVu Sans is what fontconfig puts in place of a family it lacks, on these machines.
    if (FIXTURE_FONTS[i] !== 'DejaVu Sans') assert.ok(!drawings[i].equals(fallback), `${FIXTURE_FONTS[i]} draws as a missing family does`);
    for (let j = i + 1; j < FIXTURE_FONTS.length; j++) {
      assert.ok(!drawings[i].equals(drawings[j]), `${FIXTURE_FONTS[i]} and ${FIXTURE_FONTS[j]} draw the same glyphs: one of them is missing`);
    }
  }
});
