/**
 * Measures the quality gate on generated documents and their degraded variants, and prints the
 * tables docs/quality-gate.md is written from. Thresholds in src/core/quality/config.ts are
 * chosen from this output.
 *
 *   node --import tsx scripts/measure-gate.ts            # the whole table (a few minutes)
 *   node --import tsx scripts/measure-gate.ts --quick    # a third of the pages
 *   node --import tsx scripts/measure-gate.ts --ocr      # also read pages with the OCR pipeline
 *   node --import tsx scripts/measure-gate.ts --details  # every check's details, image by image
 *   node --import tsx scripts/measure-gate.ts --reduced  # also the gate-only path (`visionops check`), which
 *                                                        # decodes large JPEGs reduced: its verdicts and scores against these
 *   GATE_CONFIG='{"blur":{"failBelow":0.2}}' node --import tsx scripts/measure-gate.ts
 */
import sharp, { type Sharp } from 'sharp';
import { toGray, type Frame } from '../src/core/frame.js';
import { qualityConfigSchema } from '../src/core/quality/config.js';
import { runQualityGate } from '../src/core/quality/gate.js';
import { hammingDistance } from '../src/core/hash/perceptual.js';
import { ingestConfigSchema } from '../src/image/config.js';
import { StageRunner } from '../src/pipeline/runner.js';
import type { QualityReport, Verdict } from '../src/core/quality/types.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { pipelineConfigSchema } from '../src/pipeline/config.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import { characterErrorRate, FONTS, randomLines, renderDocument, seededRandom } from '../test/fixtures/documents.js';

const config = qualityConfigSchema.parse(JSON.parse(process.env.GATE_CONFIG ?? '{}'));
const quick = process.argv.includes('--quick');
const reducedPath = process.argv.includes('--reduced');

interface Page {
  id: string;
  font: string;
  fontSize: number;
  width: number;
  skew: number;
  background: string;
  ink: string;
  jpeg: number | null;
  /** The clean render, before any degradation or JPEG. */
  png: Buffer;
}

interface Row {
  family: string;
  variant: string;
  page: string;
  fontSize: number;
  width: number;
  report: QualityReport;
  /** With --reduced: the gate-only path's report when it decoded the image reduced, and the Hamming distance of its perceptual hash to the full decode's. */
  reduced?: { report: QualityReport; hashDistance: number };
}

const BACKGROUNDS = ['#ffffff', '#f3efe6', '#d9d9d9', '#f6edc4'];
const INKS = ['#111111', '#111111', '#333333', '#8c8c8c', '#a8a8a8'];
const SIZES = [16, 20, 24, 32, 40, 48];
const WIDTHS = [800, 1200, 1600, 2000, 2400, 3000];
const SKEWS = [0, 0, 1.5, -3, 6];
const QUALITIES = [null, 50, 70, 90];
const BLUR_SIGMAS = [0.5, 1, 1.5, 2, 2.5, 3, 4, 6];
const DARK_FACTORS = [0.6, 0.3, 0.15];
const WASHOUT_OFFSETS = [180, 205, 230];

/** Lines that fill most of the page width, as on a real form or invoice, and a page as tall as it is wide or so. */
function pageText(seed: number, fontSize: number, width: number, aspect: number): string[] {
  const rand = seededRandom(seed);
  const margin = Math.round(fontSize * 1.5);
  const lineHeight = Math.round(fontSize * 1.8);
  const lines = Math.max(3, Math.floor((width * aspect - 2 * margin) / lineHeight));
  const words = randomLines(seed, lines * 12).join(' ').split(' ');
  const out: string[] = [];
  let w = 0;
  for (let i = 0; i < lines; i++) {
    const target = ((width - 2 * margin) / (0.62 * fontSize)) * (0.45 + 0.5 * rand());
    let line = '';
    while (line.length < target) line += (line ? ' ' : '') + words[w++ % words.length];
    out.push(line);
  }
  return out;
}

async function makePages(): Promise<Page[]> {
  const rand = seededRandom(2024);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const specs: Omit<Page, 'id' | 'png'>[] = [];
  // The corners of the range first: the smallest text on the largest page and the reverse.
  for (const [fontSize, width] of [[16, 3000], [16, 800], [48, 800], [48, 3000], [24, 1200], [32, 1200]] as const) {
    specs.push({ font: FONTS[specs.length % 3], fontSize, width, skew: 0, background: '#ffffff', ink: '#111111', jpeg: null });
  }
  specs.push({ font: FONTS[0], fontSize: 16, width: 1200, skew: 0, background: '#ffffff', ink: '#a8a8a8', jpeg: 70 });
  specs.push({ font: FONTS[2], fontSize: 24, width: 800, skew: 0, background: '#f3efe6', ink: '#8c8c8c', jpeg: 50 });
  const randomCount = quick ? 6 : 22;
  for (let i = 0; i < randomCount; i++) {
    specs.push({
      font: FONTS[i % 3],
      fontSize: pick(SIZES),
      width: pick(WIDTHS),
      skew: pick(SKEWS),
      background: pick(BACKGROUNDS),
      ink: pick(INKS),
      jpeg: pick(QUALITIES),
    });
  }
  const pages: Page[] = [];
  for (const [i, spec] of specs.entries()) {
    const aspect = 0.4 + rand();
    const lines = pageText(i + 1, spec.fontSize, spec.width, aspect);
    const png = await renderDocument({ ...spec, skewDegrees: spec.skew, lines });
    const id = `${spec.fontSize}px/${spec.width}w/${spec.ink === '#111111' || spec.ink === '#333333' ? 'ink' : 'thermal'}${spec.skew ? `/skew${spec.skew}` : ''}${spec.jpeg ? `/q${spec.jpeg}` : ''}`;
    pages.push({ ...spec, id, png });
  }
  return pages;
}

/** The capture order of a camera: the optics and the exposure first, the JPEG encoder last. */
async function captured(page: Page, image: Sharp): Promise<Buffer> {
  return page.jpeg === null ? image.png().toBuffer() : image.jpeg({ quality: page.jpeg }).toBuffer();
}

async function toFrame(image: Buffer): Promise<Frame> {
  const { data, info } = await sharp(image).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** The gate-only path as `visionops check` runs it, for --reduced. */
// Limits wide enough for the largest pages here (x2.5 of 3000 px): this measures the gate, not ingest's refusals.
const gateOnly = new StageRunner(
  { ingest: ingestConfigSchema.parse({ maxBytes: 500_000_000, maxPixels: 200_000_000, inflightPixels: 400_000_000 }), quality: config, pipeline: pipelineConfigSchema.parse({}) },
  null,
);

async function measure(rows: Row[], family: string, variant: string, page: Page | null, image: Buffer): Promise<QualityReport> {
  const report = runQualityGate(await toFrame(image), config);
  rows.push({ family, variant, page: page?.id ?? variant, fontSize: page?.fontSize ?? 0, width: page?.width ?? 0, report, reduced: await measureReduced(image) });
  return report;
}

async function measureReduced(image: Buffer): Promise<Row['reduced']> {
  if (!reducedPath) return undefined;
  const full = await gateOnly.run(image, { until: 'gate', decode: 'full' });
  const reduced = await gateOnly.run(image, { until: 'gate', decode: 'reduced' });
  if (!reduced.image.reduced) return undefined;
  return { report: reduced.quality, hashDistance: hammingDistance(full.image.phash, reduced.image.phash) };
}

/** The reduced decode against the full one, on every image it applied to: verdicts that moved, and how far each score did. */
function printReduced(rows: Row[]): void {
  const reduced = rows.filter((r) => r.reduced !== undefined);
  console.log(`\n## The gate-only path's reduced decode against the full decode (${reduced.length} of ${rows.length} images decoded reduced)\n`);
  console.log('| check | verdicts that differ | largest relative score difference | median |');
  console.log('| --- | --- | --- | --- |');
  for (const name of ['resolution', 'information', 'blur', 'exposure', 'gate']) {
    const verdict = (report: QualityReport) => (name === 'gate' ? report.verdict : check(report, name).verdict);
    const moved = reduced.filter((r) => verdict(r.report) !== verdict(r.reduced!.report));
    const differences = name === 'gate' ? [] : reduced.map((r) => Math.abs(check(r.reduced!.report, name).score - check(r.report, name).score) / Math.max(1e-6, Math.abs(check(r.report, name).score)));
    const sorted = differences.sort((a, b) => a - b);
    console.log(`| ${name} | ${moved.length}${moved.length ? `: ${moved.map((r) => `${r.family} ${r.variant} ${r.page} ${verdict(r.report)} -> ${verdict(r.reduced!.report)}`).join('; ')}` : ''} | ${fmt(sorted[sorted.length - 1] ?? NaN)} | ${fmt(sorted[Math.floor(sorted.length / 2)] ?? NaN)} |`);
  }
  const distances = reduced.map((r) => r.reduced!.hashDistance).sort((a, b) => a - b);
  console.log(`\nPerceptual hash, bits from the full decode's: median ${distances[Math.floor(distances.length / 2)] ?? '-'}, largest ${distances[distances.length - 1] ?? '-'}.`);
}

async function measurePage(rows: Row[], page: Page): Promise<void> {
  const meta = await sharp(page.png).metadata();
  await measure(rows, 'sharp', 'as rendered', page, await captured(page, sharp(page.png)));
  const texture = await sharp({
    create: { width: meta.width, height: meta.height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 200, sigma: 14 } },
  })
    .blur(1)
    .png()
    .toBuffer();
  await measure(rows, 'sharp', 'textured paper', page, await captured(page, sharp(texture).composite([{ input: page.png, blend: 'multiply' }])));
  await measure(rows, 'sharp', 'stamp', page, await captured(page, sharp(page.png).composite([{ input: stamp(), gravity: 'northeast', blend: 'multiply' }])));
  for (const sigma of BLUR_SIGMAS) {
    await measure(rows, 'blur', `sigma ${sigma}`, page, await captured(page, sharp(page.png).blur(sigma)));
  }
  for (const factor of DARK_FACTORS) {
    await measure(rows, 'dark', `x${factor}`, page, await captured(page, sharp(page.png).linear(factor, 0)));
  }
  for (const offset of WASHOUT_OFFSETS) {
    await measure(rows, 'washed out', `x0.3+${offset}`, page, await captured(page, sharp(page.png).linear(0.3, offset)));
  }
  await measure(rows, 'dark', 'x0.3 blur 3', page, await captured(page, sharp(page.png).blur(3).linear(0.3, 0)));
  await measure(rows, 'scaled', 'x0.5', page, await captured(page, sharp(page.png).resize(Math.round(meta.width / 2))));
  if (page.width <= 1200) {
    await measure(rows, 'scaled', 'x2.5', page, await captured(page, sharp(page.png).resize(Math.round(meta.width * 2.5))));
    // sharp resizes before it blurs within one pipeline: blur first, in its own.
    const blurredFirst = await sharp(page.png).blur(3).png().toBuffer();
    await measure(rows, 'scaled', 'x2.5 blur 3', page, await captured(page, sharp(blurredFirst).resize(Math.round(meta.width * 2.5))));
  }
}

function stamp(): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="220" height="220"><circle cx="110" cy="110" r="95" fill="none" stroke="#c0392b" stroke-width="8"/>` +
      `<text x="110" y="122" font-family="DejaVu Sans" font-size="34" fill="#c0392b" text-anchor="middle">PAID</text></svg>`,
  );
}

async function measureBlanks(rows: Row[]): Promise<void> {
  const sizes = quick ? [[1920, 1080]] : [[800, 600], [1920, 1080], [3000, 4000]];
  for (const [width, height] of sizes) {
    for (const grey of [0, 20, 128, 235, 255]) {
      const image = await sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: grey } } }).png().toBuffer();
      await measure(rows, 'blank', `uniform ${grey}`, null, image);
    }
    for (const [mean, sigma] of [[30, 4], [128, 10], [220, 6], [220, 20]]) {
      const noisy = sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean, sigma } } });
      await measure(rows, 'blank', `noise ${mean}±${sigma}`, null, await noisy.png().toBuffer());
      await measure(rows, 'blank', `noise ${mean}±${sigma} q60`, null, await noisy.jpeg({ quality: 60 }).toBuffer());
    }
    const gradient = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><radialGradient id="v"><stop offset="0" stop-color="#eee"/><stop offset="1" stop-color="#777"/></radialGradient></defs><rect width="100%" height="100%" fill="url(#v)"/></svg>`,
    );
    await measure(rows, 'blank', 'vignette', null, await sharp(gradient).jpeg({ quality: 80 }).toBuffer());
    const shadow = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#e6e6e6"/><rect width="45%" height="100%" fill="#8a8a8a"/></svg>`,
    );
    await measure(rows, 'blank', 'sheet with a shadow', null, await sharp(shadow).blur(6).jpeg({ quality: 80 }).toBuffer());
  }
  for (const word of ['Total', 'OK']) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="1200"><rect width="100%" height="100%" fill="#fff"/><text x="700" y="600" font-family="DejaVu Sans" font-size="32" fill="#111">${word}</text></svg>`;
    await measure(rows, 'sparse', `one word "${word}" 32px on 1600x1200`, null, await sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer());
  }
}

const fmt = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

function quantiles(values: number[]): string {
  if (values.length === 0) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))];
  return `${fmt(sorted[0])} / ${fmt(q(0.5))} / ${fmt(sorted[sorted.length - 1])}`;
}

function verdictCounts(verdicts: Verdict[]): string {
  const n = (v: Verdict) => verdicts.filter((x) => x === v).length;
  return `${n('pass')}/${n('warn')}/${n('fail')}`;
}

function check(report: QualityReport, name: string) {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check`);
  return found;
}

function printFamilies(rows: Row[]): void {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = `${row.family} | ${row.variant}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  console.log('\n## Scores per variant (min / median / max) and verdicts (pass/warn/fail)\n');
  console.log('| family | variant | n | blur sharpness | blur p/w/f | exposure separation | exposure p/w/f | information density | information p/w/f | gate p/w/f |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [key, group] of groups) {
    const [family, variant] = key.split(' | ');
    const col = (name: string) => [
      quantiles(group.map((r) => check(r.report, name).score).filter((s) => !(name === 'blur' && s === 0))),
      verdictCounts(group.map((r) => check(r.report, name).verdict)),
    ];
    console.log(
      `| ${family} | ${variant} | ${group.length} | ${[...col('blur'), ...col('exposure'), ...col('information')].join(' | ')} | ${verdictCounts(group.map((r) => r.report.verdict))} |`,
    );
  }
}

/** Blur sharpness by sigma and text size: where the fail line has to sit. */
function printBlurGrid(rows: Row[]): void {
  const blurRows = rows.filter((r) => r.family === 'blur' || (r.family === 'sharp' && r.variant === 'as rendered'));
  const sigma = (r: Row) => (r.family === 'sharp' ? '0' : r.variant.replace('sigma ', ''));
  for (const [label, key] of [['text size (px)', (r: Row) => r.fontSize], ['page width (px)', (r: Row) => r.width]] as const) {
    const columns = [...new Set(blurRows.map(key))].sort((a, b) => a - b);
    console.log(`\n## Blur sharpness (median, min) by sigma and ${label}\n`);
    console.log(`| sigma | ${columns.join(' | ')} |`);
    console.log(`| --- | ${columns.map(() => '---').join(' | ')} |`);
    for (const s of ['0', ...BLUR_SIGMAS.map(String)]) {
      const cells = columns.map((c) => {
        const scores = blurRows.filter((r) => sigma(r) === s && key(r) === c).map((r) => check(r.report, 'blur').score);
        if (scores.length === 0) return '-';
        const sorted = scores.sort((a, b) => a - b);
        return `${fmt(sorted[Math.floor(sorted.length / 2)], 2)}, ${fmt(sorted[0], 2)}`;
      });
      console.log(`| ${s} | ${cells.join(' | ')} |`);
    }
  }
}

function printScaleInvariance(rows: Row[]): void {
  console.log('\n## The same page at x1 and x2.5: blur sharpness\n');
  console.log('| page | x1 | x2.5 | relative difference | x1 blur 3 | x2.5 blur 3 (blurred before upscaling) |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const up of rows.filter((r) => r.variant === 'x2.5')) {
    const one = rows.find((r) => r.page === up.page && r.variant === 'as rendered');
    const blurredOne = rows.find((r) => r.page === up.page && r.variant === 'sigma 3');
    const blurredUp = rows.find((r) => r.page === up.page && r.variant === 'x2.5 blur 3');
    if (!one || !blurredOne || !blurredUp) continue;
    const a = check(one.report, 'blur').score;
    const b = check(up.report, 'blur').score;
    console.log(`| ${up.page} | ${fmt(a)} | ${fmt(b)} | ${fmt(Math.abs(b - a) / a, 3)} | ${fmt(check(blurredOne.report, 'blur').score)} | ${fmt(check(blurredUp.report, 'blur').score)} |`);
  }
}

/** The margins a blur threshold has: the least sharp usable images and the sharpest blurred ones. */
function printBlurMargins(rows: Row[]): void {
  const sigmaOf = (r: Row) => (r.family === 'blur' ? Number(r.variant.replace('sigma ', '')) : r.variant.includes('blur 3') ? 3 : 0);
  const usable = rows.filter((r) => ['sharp', 'dark', 'washed out', 'scaled'].includes(r.family) && sigmaOf(r) === 0 && check(r.report, 'blur').details?.measuredEdges);
  const blurry = rows.filter((r) => sigmaOf(r) >= 3 && r.fontSize <= 32);
  const line = (r: Row) => `- ${fmt(check(r.report, 'blur').score)} ${r.family} ${r.variant} ${r.page}`;
  console.log('\n## Blur margins\n\nLeast sharp images that are not blurred (sharp, dark, washed out, scaled, any text size):\n');
  usable.sort((a, b) => check(a.report, 'blur').score - check(b.report, 'blur').score).slice(0, 8).forEach((r) => console.log(line(r)));
  console.log('\nSharpest images blurred with sigma >= 3, text of 32 px or less:\n');
  blurry.sort((a, b) => check(b.report, 'blur').score - check(a.report, 'blur').score).slice(0, 8).forEach((r) => console.log(line(r)));
}

/** Every gate verdict that contradicts what the variant is: usable refused, or unusable passed. */
function printSurprises(rows: Row[]): void {
  const usable = (r: Row) =>
    r.family === 'sharp' || r.family === 'sparse' || r.family === 'scaled' && !r.variant.includes('blur') ||
    (r.family === 'blur' && Number(r.variant.replace('sigma ', '')) <= 1) || (r.family === 'dark' && !r.variant.includes('blur'));
  const unusable = (r: Row) => r.family === 'blank' || (r.family === 'blur' && Number(r.variant.replace('sigma ', '')) >= 3) || r.variant.includes('blur 3');
  console.log('\n## Usable images the gate refuses, unusable ones it passes\n');
  let any = false;
  for (const r of rows) {
    const refused = usable(r) && r.report.verdict === 'fail';
    const missed = unusable(r) && r.report.verdict !== 'fail';
    if (!refused && !missed) continue;
    any = true;
    const scores = r.report.checks.map((c) => `${c.name} ${c.verdict} ${fmt(c.score)}`).join(', ');
    console.log(`- ${refused ? 'REFUSED' : 'PASSED'} ${r.family} ${r.variant} ${r.page}: ${scores}`);
  }
  if (!any) console.log('none');
}

function medianTime(work: () => unknown): number {
  for (let i = 0; i < 5; i++) work();
  const times: number[] = [];
  for (let i = 0; i < 31; i++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[15];
}

/** Wall-clock of the gate on 1080p frames: a photographed page, and random noise (the most edges). */
async function printSpeed(): Promise<void> {
  const page = await renderDocument({ lines: pageText(99, 22, 1920, 0.6), fontSize: 22, width: 1920 });
  const document = await toFrame(await sharp(page).resize(1920, 1080, { fit: 'cover' }).png().toBuffer());
  const noise = await toFrame(
    await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .png()
      .toBuffer(),
  );
  console.log('\n## Speed (1920x1080 RGB, median of 31 runs after 5 warm-up runs)\n');
  console.log('Baseline: toGray on the same frame, one pass over its pixels; the ratio holds when the machine is busy.\n');
  for (const [name, frame] of [['document page', document], ['random noise', noise]] as const) {
    const gate = medianTime(() => runQualityGate(frame, config));
    const baseline = medianTime(() => toGray(frame));
    console.log(`- ${name}: gate ${fmt(gate, 1)} ms, toGray ${fmt(baseline, 1)} ms, ratio ${fmt(gate / baseline, 1)}`);
  }
}

/**
 * With --ocr: reads pages with the built-in OCR pipeline (src/pipeline/document.ts) as blur and
 * exposure degrade them, so the gate's scores sit beside what they cost in character errors.
 * CER counts spaces; "CER without spaces" counts only the characters, since blur first merges
 * words (DESIGN.md: sigma 4 on 32 px print still reads, without its spaces).
 */
async function printOcr(): Promise<void> {
  const reader = await loadDocumentPipeline(pipelineConfigSchema.parse({}), runtimeConfigSchema.parse({}));
  const read = async (image: Buffer): Promise<string> => {
    const { result } = await reader.read(await toFrame(image), { exifOrientation: 1 });
    return result.lines.map((line) => line.text).join('\n');
  };
  const squeeze = (text: string) => text.replace(/ /g, '');
  console.log('\n## OCR character error rate beside the gate\n');
  console.log('| text | variant | blur sharpness | blur | exposure | information | CER | CER without spaces |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  try {
    for (const fontSize of [16, 24, 32, 48]) {
      const lines = pageText(fontSize, fontSize, 1200, 0.45).slice(0, 6);
      const png = await renderDocument({ lines, fontSize, width: 1200 });
      const reference = lines.join('\n');
      const variants: [string, Buffer][] = [['sharp', png]];
      for (const sigma of BLUR_SIGMAS) variants.push([`blur ${sigma}`, await sharp(png).blur(sigma).png().toBuffer()]);
      if (fontSize === 24) {
        for (const factor of DARK_FACTORS) variants.push([`dark x${factor}`, await sharp(png).linear(factor, 0).png().toBuffer()]);
        for (const offset of WASHOUT_OFFSETS) variants.push([`washed x0.3+${offset}`, await sharp(png).linear(0.3, offset).png().toBuffer()]);
      }
      for (const [variant, image] of variants) {
        const report = runQualityGate(await toFrame(image), config);
        const text = await read(image);
        const cells = ['blur', 'exposure', 'information'].map((name) => check(report, name).verdict);
        console.log(
          `| ${fontSize} px | ${variant} | ${fmt(check(report, 'blur').score)} | ${cells.join(' | ')} | ${fmt(characterErrorRate(reference, text))} | ${fmt(characterErrorRate(squeeze(reference), squeeze(text)))} |`,
        );
      }
    }
  } finally {
    await reader.close();
  }
}

/** With --details: every check's details for every image, to see why a score is what it is. */
function printDetails(rows: Row[]): void {
  console.log('\n## Details\n');
  for (const r of rows) {
    const checks = r.report.checks.map((c) => `${c.name}: ${Object.entries(c.details ?? {}).map(([k, v]) => `${k}=${fmt(v, 2)}`).join(' ')}`);
    console.log(`- ${r.family} ${r.variant} ${r.page}\n  ${checks.join('\n  ')}`);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`# Quality gate measurements\n\nconfig: ${JSON.stringify(config)}`);
  const rows: Row[] = [];
  const pages = await makePages();
  for (const page of pages) await measurePage(rows, page);
  await measureBlanks(rows);
  printFamilies(rows);
  printBlurGrid(rows);
  printScaleInvariance(rows);
  printBlurMargins(rows);
  printSurprises(rows);
  if (reducedPath) printReduced(rows);
  if (process.argv.includes('--details')) printDetails(rows);
  if (process.argv.includes('--ocr')) await printOcr();
  await printSpeed();
  console.log(`\n${rows.length} images measured in ${fmt((performance.now() - started) / 1000, 0)} s.`);
}

await main();
