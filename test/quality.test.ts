import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Frame } from '../src/core/frame.js';
import { BLURRY } from '../src/core/quality/blur.js';
import { qualityConfigSchema } from '../src/core/quality/config.js';
import { OVEREXPOSED, TOO_BRIGHT, TOO_DARK } from '../src/core/quality/exposure.js';
import { runQualityGate } from '../src/core/quality/gate.js';
import { LOOKS_EMPTY } from '../src/core/quality/information.js';
import { TEXT_TOO_SMALL, TOO_SMALL } from '../src/core/quality/resolution.js';
import type { QualityCheck, QualityReport } from '../src/core/quality/types.js';
import { largeWordCrop, photograph, photographedPage, speckledCounter } from './fixtures/captures.js';
import { asJpeg, blank, blurred, exposed, randomLines, renderDocument, withGrain } from '../test/fixtures/documents.js';

const config = qualityConfigSchema.parse({});

async function toFrame(image: Buffer, channels: 3 | 4 = 3): Promise<Frame> {
  const pipeline = sharp(image).toColourspace('srgb');
  const { data, info } = await (channels === 4 ? pipeline.ensureAlpha() : pipeline.removeAlpha())
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, channels);
  return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

async function gate(image: Buffer): Promise<QualityReport> {
  return runQualityGate(await toFrame(image), config);
}

function check(report: QualityReport, name: string): QualityCheck {
  const found = report.checks.find((c) => c.name === name);
  assert.ok(found, `the report has a ${name} check`);
  return found;
}

/** A page of lines that fill most of its width, as on a form or an invoice. */
function page(seed: number, fontSize: number, width: number, lines: number): string[] {
  const words = randomLines(seed, lines * 6).join(' ').split(' ');
  const perLine = Math.max(3, Math.round(width / (fontSize * 0.62 * 7)));
  return Array.from({ length: lines }, (_, i) => words.slice(i * perLine, (i + 1) * perLine).join(' '));
}

const sharpPage = renderDocument({ lines: page(1, 32, 1200, 12), fontSize: 32, width: 1200 });

test('a sharp, well exposed page passes every check', async () => {
  const report = await gate(await sharpPage);
  assert.equal(report.verdict, 'pass', JSON.stringify(report.checks));
  assert.deepEqual(report.guidance, []);
  assert.deepEqual(
    report.checks.map((c) => c.name),
    ['resolution', 'information', 'blur', 'exposure'],
  );
});

test('small print blurred past reading (24 px, sigma 4) fails on blur, with guidance to hold still', async () => {
  const small = await renderDocument({ lines: page(3, 24, 1200, 14), fontSize: 24, width: 1200 });
  const report = await gate(await blurred(small, 4));
  assert.equal(report.verdict, 'fail');
  assert.equal(check(report, 'blur').verdict, 'fail', JSON.stringify(check(report, 'blur')));
  assert.equal(check(report, 'information').verdict, 'pass', 'a blurred page is not empty');
  assert.deepEqual(report.guidance, [BLURRY], 'smeared ink is blur, not glare: no exposure finding beside it');
  assert.equal(check(report, 'exposure').verdict, 'pass');
});

test('large print blurred as much (48 px, sigma 4) still reads, so it is not refused', async () => {
  const large = await renderDocument({ lines: page(4, 48, 1600, 8), fontSize: 48, width: 1600 });
  const report = await gate(await blurred(large, 4));
  assert.notEqual(check(report, 'blur').verdict, 'fail', JSON.stringify(check(report, 'blur')));
  assert.notEqual(report.verdict, 'fail');
});

test('sharpness falls as blur grows', async () => {
  const scores = [];
  for (const sigma of [0, 1.5, 3, 6]) {
    const image = sigma === 0 ? await sharpPage : await blurred(await sharpPage, sigma);
    scores.push(check(await gate(image), 'blur').score);
  }
  for (let i = 1; i < scores.length; i++) assert.ok(scores[i] < scores[i - 1], `sharpness ${scores.join(', ')} falls with sigma`);
  assert.equal(check(await gate(await blurred(await sharpPage, 6)), 'blur').verdict, 'fail');
});

test('a dark but sharp page gets an exposure finding and no blur finding', async () => {
  const report = await gate(await exposed(await sharpPage, 0.3));
  const exposure = check(report, 'exposure');
  assert.equal(exposure.verdict, 'warn');
  assert.equal(exposure.guidance, TOO_DARK);
  assert.equal(exposure.details?.dark, 1);
  assert.equal(exposure.details?.bright, 0);
  assert.equal(check(report, 'blur').verdict, 'pass');
  assert.equal(report.verdict, 'warn');
  assert.deepEqual(report.guidance, [TOO_DARK]);
});

test('a very dark page of faint thermal-like print is still sharp and still readable', async () => {
  const thermal = await renderDocument({ lines: page(2, 24, 1000, 14), fontSize: 24, width: 1000, ink: '#a8a8a8', background: '#f3efe6' });
  const report = await gate(await exposed(await asJpeg(thermal, 70), 0.15));
  assert.equal(check(report, 'blur').verdict, 'pass', JSON.stringify(check(report, 'blur')));
  assert.equal(check(report, 'information').verdict, 'pass');
  assert.equal(check(report, 'exposure').verdict, 'warn');
  assert.notEqual(report.verdict, 'fail');
});

test('faint print photographed in dim light measures the height it has in good light, so it is called too dark, not too small', async () => {
  const thermal = await renderDocument({ lines: randomLines(2, 14), fontSize: 20, width: 1000, ink: '#b0b0b0', background: '#f3efe6' });
  const photographed = async (light: number) => gate(await asJpeg(await withGrain(await exposed(thermal, light), 6, 1), 75));
  const lit = check(await photographed(1), 'resolution');
  const dim = await photographed(0.3);
  // Dimmed to 0.3 the print sat under the letters' darkness floor; what was left of it were specks of grain, 2 px high.
  assert.equal(check(dim, 'resolution').verdict, 'pass', JSON.stringify(check(dim, 'resolution')));
  assert.ok(Math.abs(check(dim, 'resolution').score - lit.score) <= 1, `the print measures ${check(dim, 'resolution').score} px dim, ${lit.score} px lit`);
  assert.deepEqual(dim.guidance, [TOO_DARK]);
});

test('faint print washed out until its letters measure small is not refused as too small: the exposure finding names the cause', async () => {
  const thermal = await renderDocument({ lines: randomLines(2, 14), fontSize: 28, width: 1000, ink: '#a0a0a0', background: '#f3efe6' });
  const report = await gate(await asJpeg(await withGrain(await exposed(thermal, 0.45, 150), 8, 1), 75));
  const resolution = check(report, 'resolution');
  // What is left of 28 px print once washed out measures a few pixels: small enough to fail, were the cause not named.
  assert.ok(resolution.score < 3.5, JSON.stringify(resolution));
  assert.equal(resolution.verdict, 'warn');
  assert.equal(check(report, 'exposure').details?.bright, 1);
  assert.notEqual(report.verdict, 'fail');
});

test('a washed-out page warns about overexposure, and fails once the ink is gone', async () => {
  const washed = await gate(await exposed(await sharpPage, 0.3, 180));
  assert.equal(check(washed, 'exposure').verdict, 'warn');
  assert.equal(check(washed, 'exposure').details?.bright, 1);
  assert.deepEqual(washed.guidance, [OVEREXPOSED]);

  const thermal = await renderDocument({ lines: page(3, 32, 1200, 10), fontSize: 32, width: 1200, ink: '#a8a8a8' });
  const gone = await gate(await exposed(thermal, 0.3, 230));
  assert.equal(gone.verdict, 'fail');
  assert.equal(check(gone, 'information').verdict, 'fail');
  assert.deepEqual(gone.guidance, [LOOKS_EMPTY, OVEREXPOSED]);
});

test('a mostly white page is not overexposed', async () => {
  const sparse = await renderDocument({ lines: ['Total 42.00'], fontSize: 32, width: 1400 });
  const padded = await sharp(sparse).extend({ bottom: 900, background: '#fff' }).png().toBuffer();
  const report = await gate(padded);
  assert.equal(check(report, 'exposure').verdict, 'pass', JSON.stringify(check(report, 'exposure')));
  assert.equal(check(report, 'information').verdict, 'pass');
});

test('blank and uniform images fail as empty, with guidance to point at the document', async () => {
  for (const image of [
    await blank(1200, 900, 235),
    await blank(1200, 900, 0),
    await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 30, sigma: 4 } } })
      .jpeg({ quality: 60 })
      .toBuffer(),
  ]) {
    const report = await gate(image);
    assert.equal(report.verdict, 'fail');
    assert.equal(check(report, 'information').verdict, 'fail');
    assert.equal(report.guidance[0], LOOKS_EMPTY);
    assert.notEqual(check(report, 'blur').verdict, 'fail', 'an empty image is not called blurry');
  }
});

test('a page filling a third of a frame of speckled granite is not empty: the busy background does not raise the bar above its print', async () => {
  const counter = await speckledCounter(2000, 1500, 7);
  const receipt = await renderDocument({ lines: randomLines(4, 34), fontSize: 20, width: 700, background: '#f4f1ea' });
  const photo = await asJpeg(await sharp(counter).composite([{ input: receipt, left: 650, top: 100 }]).png().toBuffer(), 88);
  const report = await gate(photo);
  assert.equal(check(report, 'information').verdict, 'pass', JSON.stringify(check(report, 'information')));
  assert.notEqual(report.verdict, 'fail', JSON.stringify(report.checks));
  assert.ok(check(report, 'blur').score > 0, 'sharpness is judged on it, not skipped for want of edges');
  // Without the bound, the granite's range sets the contrast an edge needs above any print's: nothing counts.
  const unbounded = runQualityGate(await toFrame(photo), qualityConfigSchema.parse({ analysis: { maxEdgeContrast: 1000 } }));
  assert.equal(check(unbounded, 'information').verdict, 'fail');
});

test('a sharp page held over a busy background out of focus is judged by its print, not by the denser blur behind it', async () => {
  const counter = await sharp(await speckledCounter(2000, 1500, 7)).blur(6).png().toBuffer();
  const page = await renderDocument({ lines: randomLines(5, 25), fontSize: 28, width: 1000, background: '#f4f1ea' });
  const over = async (held: Buffer) => gate(await asJpeg(await sharp(counter).composite([{ input: held, left: 500, top: 100 }]).png().toBuffer(), 88));
  const sharpPage = check(await over(page), 'blur');
  // The blurred flecks hold more edges than the print: read there, this page scored 0.111 and was refused.
  assert.equal(sharpPage.verdict, 'pass', JSON.stringify(sharpPage));
  const softPage = check(await over(await sharp(page).blur(3).png().toBuffer()), 'blur');
  assert.notEqual(softPage.verdict, 'pass', `the same page blurred with sigma 3: ${JSON.stringify(softPage)}`);
});

test('small print on a large scan passes', async () => {
  const small = await renderDocument({ lines: page(4, 16, 1600, 24), fontSize: 16, width: 1600, skewDegrees: 1.5 });
  const report = await gate(await asJpeg(small, 80));
  assert.equal(report.verdict, 'pass', JSON.stringify(report.checks));
});

test('a 3000 px page passes', async () => {
  const large = await renderDocument({ lines: page(5, 32, 3000, 30), fontSize: 32, width: 3000 });
  const report = await gate(large);
  assert.equal(report.verdict, 'pass', JSON.stringify(report.checks));
});

test('the same page scores the same sharpness at 1x and 2.5x', async () => {
  for (const source of [await sharpPage, await blurred(await sharpPage, 2)]) {
    const { width } = await sharp(source).metadata();
    const larger = await sharp(source).resize(Math.round(width * 2.5)).png().toBuffer();
    const one = check(await gate(source), 'blur').score;
    const scaled = check(await gate(larger), 'blur').score;
    assert.ok(Math.abs(scaled - one) / one < 0.1, `1x ${one} vs 2.5x ${scaled}`);
  }
});

/** A receipt: item names on the left, prices on the right, set tight, with a wide empty column between them. */
async function receipt(): Promise<Buffer> {
  const items = randomLines(8, 14).map((line) => line.split(' ').slice(0, 2).join(' '));
  const rows = items.map((item, i) => `<text x="24" y="${36 + i * 22}" font-family="DejaVu Sans Mono" font-size="17">${item}</text><text x="420" y="${36 + i * 22}" font-family="DejaVu Sans Mono" font-size="17">${(i * 7.31 + 2).toFixed(2)}</text>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="520" height="${items.length * 22 + 40}"><rect width="100%" height="100%" fill="#fff"/>${rows.join('')}</svg>`;
  return asJpeg(await sharp(Buffer.from(svg)).png().toBuffer(), 80);
}

test('a page turned a quarter scores the same sharpness as upright: letters along a line are not lines', async () => {
  // Small print on grainy paper: along a line, its letters repeat about as regularly as its lines.
  const small = await renderDocument({ lines: page(6, 16, 560, 7), fontSize: 16, width: 560, skewDegrees: -0.9, background: '#fdfcf7' });
  for (const source of [await asJpeg(small, 70), await asJpeg(await blurred(small, 1), 70), await receipt()]) {
    const upright = check(await gate(source), 'blur');
    assert.equal(upright.verdict, 'pass', JSON.stringify(upright));
    for (const degrees of [90, 270]) {
      const turned = check(await gate(await sharp(source).rotate(degrees).png().toBuffer()), 'blur');
      assert.equal(turned.verdict, upright.verdict, `turned ${degrees}: ${JSON.stringify(turned)} vs upright ${JSON.stringify(upright)}`);
      assert.ok(Math.abs(turned.score - upright.score) / upright.score < 0.1, `turned ${degrees}: ${turned.score} vs upright ${upright.score}`);
    }
  }
});

test('a page shrunk until its print is 4 px fails on resolution: the text is too small to read', async () => {
  const tiny = await sharp(await sharpPage).resize(150).png().toBuffer();
  const report = await gate(tiny);
  assert.equal(check(report, 'resolution').verdict, 'fail', JSON.stringify(check(report, 'resolution')));
  assert.ok(report.guidance.includes(TEXT_TOO_SMALL));
  const readable = await gate(await sharp(await sharpPage).resize(420).png().toBuffer());
  assert.equal(check(readable, 'resolution').verdict, 'pass', 'the same page with 11 px print reads');
});

test('a 320 x 180 crop holding one large word passes: the text is large, whatever the frame', async () => {
  for (const [word, size] of [['EXIT', 96], ['Total', 64]] as const) {
    const report = await gate(await asJpeg(await largeWordCrop(word, 320, 180, size), 85));
    assert.equal(check(report, 'resolution').verdict, 'pass', JSON.stringify(check(report, 'resolution')));
    assert.notEqual(report.verdict, 'fail', JSON.stringify(report.checks));
  }
  const speck = await gate(await sharp(await largeWordCrop('EXIT', 320, 180, 96)).resize(12).png().toBuffer());
  assert.equal(check(speck, 'resolution').verdict, 'fail', 'a frame too small to hold a line still fails');
  assert.deepEqual(speck.guidance.slice(0, 1), [TOO_SMALL]);
});

test('a sharp phone photo of a page on a desk, turned any amount, in perspective, with headings and small print, is not called blurry', async () => {
  const upright = check(await gate(await photographedPage({ seed: 1, degrees: 0, keystone: 0.15 })), 'blur');
  assert.equal(upright.verdict, 'pass', JSON.stringify(upright));
  for (const degrees of [80, 100, 170, 260, 45, 23]) {
    const report = await gate(await photographedPage({ seed: 1, degrees, keystone: 0.15 }));
    const blur = check(report, 'blur');
    assert.equal(blur.verdict, 'pass', `turned ${degrees}: ${JSON.stringify(blur)}`);
    assert.ok(blur.score > 0.8 * upright.score, `turned ${degrees}: ${blur.score} vs upright ${upright.score}`);
    assert.equal(report.verdict, 'pass', `turned ${degrees}: ${JSON.stringify(report.checks)}`);
  }
  const shaken = check(await gate(await photographedPage({ seed: 1, degrees: 80, keystone: 0.15, blur: 4 })), 'blur');
  assert.notEqual(shaken.verdict, 'pass', `the same photo shaken (sigma 4) is found out: ${JSON.stringify(shaken)}`);
});

test('photographs: a well exposed one passes exposure, an overexposed one is too bright, an underexposed one too dark, none refused for it', async () => {
  const normal = await gate(await photograph(3, 1));
  assert.equal(check(normal, 'exposure').verdict, 'pass', JSON.stringify(check(normal, 'exposure')));
  for (const [exposure, guidance] of [
    [2.2, TOO_BRIGHT],
    [1.8, TOO_BRIGHT],
    [0.5, TOO_DARK],
    [0.3, TOO_DARK],
  ] as const) {
    const report = await gate(await photograph(4, exposure));
    const found = check(report, 'exposure');
    assert.equal(found.verdict, 'warn', `exposure x${exposure}: ${JSON.stringify(found)}`);
    assert.equal(found.guidance, guidance, `exposure x${exposure}`);
    assert.notEqual(report.verdict, 'fail', `exposure x${exposure}: ${JSON.stringify(report.checks)}`);
  }
});

test('a sharp photograph without text is not called blurry by the document gate; a soft one, and a page blurred past its line pitch, still are', async () => {
  // Without text the gate guesses the text's scale from grain; where its tiles read the grain as
  // blurry print (seeds 4 and 6), the photograph's own outlines say it is sharp.
  for (const seed of [1, 2, 4, 6]) {
    const sharpPhoto = await gate(await photograph(seed, 1));
    const blur = check(sharpPhoto, 'blur');
    assert.equal(blur.details?.linePitchFound, 0, 'no text: no line pitch');
    assert.equal(blur.verdict, 'pass', JSON.stringify(blur));
    if (seed === 4 || seed === 6) assert.ok(Number(blur.details?.outlineSharpness) >= config.blur.withoutLines!.sharpFrom, JSON.stringify(blur.details));
    assert.equal(sharpPhoto.verdict, 'pass', JSON.stringify(sharpPhoto.checks));
    const soft = check(await gate(await photograph(seed, 1, 4)), 'blur');
    assert.equal(soft.verdict, 'fail', `a photograph blurred with sigma 4: ${JSON.stringify(soft)}`);
  }
  const threeLines = await renderDocument({ lines: page(16, 16, 1200, 3), fontSize: 16, width: 1200 });
  const lost = check(await gate(await blurred(threeLines, 4)), 'blur');
  assert.equal(lost.details?.linePitchFound, 0, 'blurred with sigma 4, three lines of 16 px print lose their pitch');
  assert.equal(lost.verdict, 'fail', JSON.stringify(lost));
  const always = qualityConfigSchema.parse({ blur: { withoutLines: null } });
  assert.equal(check(runQualityGate(await toFrame(await photograph(4, 1)), always), 'blur').verdict, 'fail', 'withoutLines: null lets the finding stand, as before');
});

test('a browser frame (RGBA) gets the same report as the RGB one', async () => {
  const image = await asJpeg(await exposed(await sharpPage, 0.5), 75);
  const rgb = runQualityGate(await toFrame(image, 3), config);
  const rgba = runQualityGate(await toFrame(image, 4), config);
  assert.deepEqual(rgba, rgb);
});

test('thresholds come from the configuration', async () => {
  const strict = qualityConfigSchema.parse({ blur: { failBelow: 0.6, warnBelow: 0.7 } });
  const report = runQualityGate(await toFrame(await sharpPage), strict);
  assert.equal(check(report, 'blur').verdict, 'fail');
  assert.equal(check(report, 'blur').threshold, 0.6);
});

test('a blurred page whose text correlates most two lines apart is still judged at its own line pitch', async () => {
  // Six lines of uneven length, 30 px print at 1.6 line spacing: blurred with sigma 4, its line
  // profile peaks higher at twice the pitch than at the pitch, which once halved the working scale.
  const words = 'ledger harbour violet nimbus quartz pelican orchard saffron lantern meadow copper tundra glacier walnut'.split(' ');
  let state = 42;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const word = () => (random() < 0.25 ? (random() * 9999).toFixed(2) : words[Math.floor(random() * words.length)]);
  const line = () => Array.from({ length: 3 + Math.floor(random() * 4) }, word).join(' ');
  const lines = Array.from({ length: 18 }, line).slice(12);
  const [size, lineHeight, margin] = [30, 48, 60];
  const texts = lines.map((line, i) => `<text x="${margin}" y="${margin + lineHeight * i + size}" font-family="DejaVu Sans" font-size="${size}" fill="#222">${line}</text>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="${2 * margin + lineHeight * 6}"><rect width="100%" height="100%" fill="#fbfaf7"/>${texts.join('')}</svg>`;
  const page = await asJpeg(await sharp(await sharp(Buffer.from(svg)).png().toBuffer()).rotate(0.8, { background: '#fbfaf7' }).png().toBuffer(), 72);
  const sharpReport = await gate(page);
  assert.equal(check(sharpReport, 'blur').verdict, 'pass');
  const blur = check(await gate(await blurred(page, 4)), 'blur');
  assert.equal(blur.verdict, 'fail', JSON.stringify(blur));
  assert.ok((blur.details?.linePitch as number) < 60, `line pitch ${blur.details?.linePitch} is about 48, not twice that`);
});
