import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../src/config/load.js';
import { hammingDistance } from '../src/core/hash/perceptual.js';
import type { QualityReport } from '../src/core/quality/types.js';
import { pathSettings, StageRunner } from '../src/pipeline/runner.js';
import { asJpeg, blank, blurred, exposed, randomLines, renderDocument, withGrain } from './fixtures/documents.js';
import { storedWithOrientation } from './fixtures/images.js';

const config = loadConfig({});
const runner = new StageRunner(pathSettings(config, config.pipeline), null);

/**
 * How far a score of the reduced decode may sit from the full decode's, relative to it. The
 * overview is area-averaged from a JPEG decoded at a third (half in the DCT, then a linear
 * kernel) instead of from the full-resolution luma: the same size, a slightly softer low-pass,
 * which moves the letters and the density of edge pairs read on it, and through them which tiles
 * are densest and the pitch. Blur and the ink and paper levels are read in those tiles from a
 * full-resolution decode of their region, so they move only as far as the choice of tiles does.
 * An empty frame has no tiles and is not decoded again: its exposure is read from the reduced
 * luma's histogram alone, whose averaging narrows the grain, so its separation is not compared
 * (its verdict is; the information check refuses such a frame either way).
 */
const TOLERANCE: Record<string, number> = { information: 0.1, blur: 0.05, exposure: 0.05 };
/** The height of the print is measured in whole overview pixels (a 4000 px image's 1024 px overview): one either way is the resolution's tolerance. */
const OVERVIEW_PIXEL = 4000 / 1024;

/** A page `fontSize` print rendered `width` px wide, scaled to 4000 px wide (a 12 MP camera's width). */
async function page(fontSize: number, width: number, seed: number): Promise<Buffer> {
  const rendered = await renderDocument({ lines: randomLines(seed, 14), fontSize, width });
  return sharp(rendered).resize({ width: 4000 }).png().toBuffer();
}

async function both(bytes: Buffer): Promise<{ full: QualityReport; reduced: QualityReport; hashDistance: number }> {
  const full = await runner.run(bytes, { until: 'gate', decode: 'full' });
  const reduced = await runner.run(bytes, { until: 'gate', decode: 'reduced' });
  assert.equal(full.image.reduced, false);
  assert.equal(reduced.image.reduced, true, 'a 4000 px wide JPEG decodes reduced on the gate-only path');
  assert.deepEqual([reduced.image.width, reduced.image.height], [full.image.width, full.image.height], 'the image keeps its own size');
  return { full: full.quality, reduced: reduced.quality, hashDistance: hammingDistance(full.image.phash, reduced.image.phash) };
}

function assertSameJudgement(name: string, full: QualityReport, reduced: QualityReport): void {
  assert.equal(reduced.verdict, full.verdict, `${name}: gate verdict`);
  for (const check of full.checks) {
    const other = reduced.checks.find((c) => c.name === check.name);
    assert.ok(other, `${name}: ${check.name} reported`);
    assert.equal(other.verdict, check.verdict, `${name}: ${check.name} verdict`);
    const empty = full.checks.some((c) => c.name === 'information' && c.verdict === 'fail');
    if (empty && check.name === 'exposure') continue;
    const difference = Math.abs(other.score - check.score);
    const allowed = check.name === 'resolution' ? OVERVIEW_PIXEL + 1e-9 : TOLERANCE[check.name] * Math.abs(check.score);
    assert.ok(difference <= allowed, `${name}: ${check.name} score ${other.score} against ${check.score}`);
  }
}

test('the reduced decode of the gate-only path judges pages, blurred, dark, empty and turned ones as the full decode does', async () => {
  const small = await page(32, 3200, 1); // 40 px print
  const large = await page(24, 1000, 2); // 96 px print
  const cases: Array<[string, Buffer, QualityReport['verdict']]> = [
    ['small print', await asJpeg(small, 85), 'pass'],
    ['large print with grain', await asJpeg(await withGrain(large, 12, 3), 85), 'pass'],
    ['blurred', await asJpeg(await blurred(large, 12), 85), 'fail'],
    ['dark', await asJpeg(await exposed(small, 0.3), 85), 'warn'],
    ['blank sheet', await asJpeg(await blank(4000, 3000), 85), 'fail'],
    ['blank sheet with grain', await asJpeg(await withGrain(await blank(4000, 3000, 200), 16, 5), 85), 'fail'],
    ['stored turned, EXIF 6', await storedWithOrientation(await asJpeg(large, 85), 6), 'pass'],
  ];
  for (const [name, bytes, expected] of cases) {
    const { full, reduced, hashDistance } = await both(bytes);
    assert.equal(full.verdict, expected, `${name}: the full decode's verdict is the case's`);
    assertSameJudgement(name, full, reduced);
    // Near copies are found within 4 bits (cache.nearDuplicate, edge.duplicates): the two decodes of
    // one page stay well inside. A frame without text rests its hash on coefficients near zero,
    // whose order any slightly different low-pass decides (docs/quality-gate.md): not compared.
    const empty = full.checks.some((c) => c.name === 'information' && c.verdict === 'fail');
    if (!empty) assert.ok(hashDistance <= 2, `${name}: perceptual hash ${hashDistance} bits from the full decode's`);
  }
});

test('images the reduced decode would not serve decode whole: a PNG, and a JPEG whose third is smaller than the overview', async () => {
  const png = await page(32, 3200, 4);
  const hd = await asJpeg(await sharp(png).resize(1920, 1080, { fit: 'fill' }).png().toBuffer(), 85);
  for (const bytes of [png, hd]) {
    const { image } = await runner.run(bytes, { until: 'gate', decode: 'reduced' });
    assert.equal(image.reduced, false);
    assert.equal(image.frame.width, image.width);
  }
});
