/**
 * Measures the built-in document pipeline on generated pages: character error rate (spaces
 * count), pages per second, whether turned pages come back upright, and how the confidence of
 * correctly read lines compares with misread ones (to choose pipeline.decision.reviewThreshold).
 *
 *   node --import tsx scripts/measure-ocr.ts [--pages 30] [--variants upright,90,180,270,tight] [--dump /tmp/ocr-misreads]
 *
 * Pages: DejaVu Sans, Serif and Mono in turn; 18-40 px; skew -3..3 degrees; JPEG quality 60-90;
 * 3-8 lines of words, amounts and codes. The seeds differ from the tests' so the pages are new.
 * Variants: the pages as they are, turned 90/180/270 degrees clockwise, `tight`: the same
 * kind of page set with 1.2 line spacing instead of the fixtures' 1.8 (receipts are set tight),
 * and `varied`: receipts, labels and forms in seven fonts, 16-38 px, on grainy paper
 * (scripts/varied-pages.ts).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { Frame } from '../src/core/frame.js';
import { cropQuad } from '../src/core/preprocess/crop.js';
import { loadDocumentPipeline, type DocumentPipeline } from '../src/pipeline/document.js';
import { pipelineConfigSchema } from '../src/pipeline/config.js';
import type { DocumentResult } from '../src/core/records/prediction.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import { asJpeg, characterErrorRate, FONTS, randomLines, renderDocument, rotated, seededRandom } from '../test/fixtures/documents.js';
import { escapeXml, generateVariedPage, type GeneratedPage } from './varied-pages.js';

const { values: args } = parseArgs({
  options: {
    pages: { type: 'string', default: '30' },
    variants: { type: 'string', default: 'upright,90,180,270,tight,varied' },
    dump: { type: 'string' },
  },
});

type Page = GeneratedPage;

/** renderDocument's page with a chosen line spacing (the fixture's is 1.8 font sizes). */
async function renderTight(lines: string[], font: string, fontSize: number, width: number, skew: number, spacing: number): Promise<Buffer> {
  const lineHeight = Math.round(fontSize * spacing);
  const margin = Math.round(fontSize * 1.5);
  const height = margin * 2 + lineHeight * lines.length;
  const texts = lines
    .map((line, i) => `<text x="${margin}" y="${margin + lineHeight * i + fontSize}" font-family="${font}" font-size="${fontSize}" fill="#111">${escapeXml(line)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${texts}</svg>`;
  const flat = await sharp(Buffer.from(svg)).png().toBuffer();
  return sharp(flat).rotate(-skew, { background: '#fff' }).png().toBuffer();
}

async function generatePage(index: number, tight: boolean): Promise<Page> {
  const seed = (tight ? 90_000 : 70_000) + index;
  const rand = seededRandom(seed);
  const font = FONTS[index % FONTS.length];
  const fontSize = 18 + Math.floor(rand() * 23);
  const skew = rand() * 6 - 3;
  const quality = 60 + Math.floor(rand() * 31);
  const lines = randomLines(seed * 13, 3 + Math.floor(rand() * 6));
  const longest = Math.max(...lines.map((line) => line.length));
  const width = Math.max(800, Math.round(fontSize * 3 + longest * fontSize * 0.66));
  const png = tight ? await renderTight(lines, font, fontSize, width, skew, 1.2) : await renderDocument({ lines, font, fontSize, skewDegrees: skew, width });
  return { lines, font, fontSize, skew, quality, image: await asJpeg(png, quality) };
}

async function decode(image: Buffer): Promise<Frame> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

interface LineOutcome {
  confidence: number;
  correct: boolean;
}

/** Each read line against its closest reference line: exact, or misread. */
function lineOutcomes(reference: string[], result: DocumentResult): LineOutcome[] {
  return result.lines.map((line) => ({
    confidence: line.confidence,
    correct: reference.some((expected) => expected === line.text),
  }));
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function dumpMisreads(dir: string, name: string, frame: Frame, page: Page, result: DocumentResult): Promise<void> {
  await mkdir(dir, { recursive: true });
  const upright = result.orientation.rotation === 0 ? frame : await decode(await sharp(await sharp(Buffer.from(frame.data), { raw: { width: frame.width, height: frame.height, channels: 3 } }).png().toBuffer()).rotate(result.orientation.rotation).png().toBuffer());
  for (const [i, line] of result.lines.entries()) {
    if (page.lines.includes(line.text)) continue;
    const crop = cropQuad(upright, line.box);
    await sharp(Buffer.from(crop.data), { raw: { width: crop.width, height: crop.height, channels: 3 } })
      .png()
      .toFile(join(dir, `${name}-line${i}.png`));
    console.log(`    ${name} line ${i}: ${JSON.stringify(line.text)} (${line.confidence.toFixed(3)})`);
  }
}

interface VariantReport {
  name: string;
  pages: number;
  cer: number;
  upright: number;
  pagesPerSecond: number;
  stageMs: Record<string, number>;
  outcomes: LineOutcome[];
  pageOutcomes: { clean: boolean; minConfidence: number }[];
}

async function measureVariant(pipeline: DocumentPipeline, name: string, pages: Page[]): Promise<VariantReport> {
  const turn = name === '90' || name === '180' || name === '270' ? (Number(name) as 90 | 180 | 270) : 0;
  const expectedRotation = (360 - turn) % 360;
  const frames: Frame[] = [];
  for (const page of pages) frames.push(await decode(turn === 0 ? page.image : await rotated(page.image, turn)));

  let errors = 0;
  let characters = 0;
  let upright = 0;
  let elapsed = 0;
  const stageMs: Record<string, number> = {};
  const outcomes: LineOutcome[] = [];
  const pageOutcomes: VariantReport['pageOutcomes'] = [];
  for (const [i, page] of pages.entries()) {
    const start = performance.now();
    const { result, timings } = await pipeline.read(frames[i], { exifOrientation: 1 });
    elapsed += performance.now() - start;
    for (const [stage, ms] of Object.entries(timings)) stageMs[stage] = (stageMs[stage] ?? 0) + ms;
    const reference = page.lines.join('\n');
    const cer = characterErrorRate(reference, result.text);
    errors += cer * reference.length;
    characters += reference.length;
    if (result.orientation.rotation === expectedRotation) upright++;
    outcomes.push(...lineOutcomes(page.lines, result));
    pageOutcomes.push({ clean: cer === 0, minConfidence: Math.min(1, ...result.lines.map((line) => line.confidence)) });
    if (cer > 0) {
      console.log(`  ${name} page ${i} (${page.font} ${page.fontSize}px, skew ${page.skew.toFixed(1)}, q${page.quality}): CER ${(cer * 100).toFixed(1)}%, rotation ${result.orientation.rotation}`);
      if (args.dump !== undefined) await dumpMisreads(args.dump, `${name}-p${i}`, frames[i], page, result);
    }
  }
  for (const stage of Object.keys(stageMs)) stageMs[stage] /= pages.length;
  return { name, pages: pages.length, cer: errors / characters, upright, pagesPerSecond: (pages.length * 1000) / elapsed, stageMs, outcomes, pageOutcomes };
}

function printThresholds(reports: VariantReport[]): void {
  const outcomes = reports.flatMap((r) => r.outcomes);
  const correct = outcomes.filter((o) => o.correct).map((o) => o.confidence).sort((a, b) => a - b);
  const misread = outcomes.filter((o) => !o.correct).map((o) => o.confidence).sort((a, b) => a - b);
  const pages = reports.flatMap((r) => r.pageOutcomes);
  console.log(`\nLine confidence: ${correct.length} lines read exactly, ${misread.length} misread`);
  for (const [label, values] of [['exact', correct], ['misread', misread]] as const) {
    const q = [0, 0.01, 0.05, 0.25, 0.5].map((p) => quantile(values, p).toFixed(3));
    console.log(`  ${label.padEnd(8)} min ${q[0]}  p1 ${q[1]}  p5 ${q[2]}  p25 ${q[3]}  median ${q[4]}`);
  }
  console.log('\n  threshold | misread lines caught | exact lines flagged | pages with errors caught | clean pages sent to review');
  const dirty = pages.filter((p) => !p.clean);
  const clean = pages.filter((p) => p.clean);
  for (const t of [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97]) {
    const share = (n: number, d: number) => (d === 0 ? '  -  ' : `${((n / d) * 100).toFixed(1)}%`.padStart(6));
    console.log(
      `  ${t.toFixed(2).padEnd(9)} | ${share(misread.filter((c) => c < t).length, misread.length).padEnd(20)} | ${share(correct.filter((c) => c < t).length, correct.length).padEnd(19)} | ${share(dirty.filter((p) => p.minConfidence < t).length, dirty.length).padEnd(24)} | ${share(clean.filter((p) => p.minConfidence < t).length, clean.length)}`,
    );
  }
}

const pageCount = Number(args.pages);
const variants = args.variants.split(',');
const pipeline = await loadDocumentPipeline(pipelineConfigSchema.parse({}), runtimeConfigSchema.parse({}));
const pages: Page[] = [];
for (let i = 0; i < pageCount; i++) pages.push(await generatePage(i, false));
const reports: VariantReport[] = [];
for (const variant of variants) {
  const indices = Array.from({ length: pageCount }, (_, i) => i);
  const set =
    variant === 'tight' ? await Promise.all(indices.map((i) => generatePage(i, true))) : variant === 'varied' ? await Promise.all(indices.map(generateVariedPage)) : pages;
  reports.push(await measureVariant(pipeline, variant, set));
}
await pipeline.close();

console.log('\nvariant  | pages | CER    | upright | pages/s | ms per page by stage');
for (const r of reports) {
  const stages = Object.entries(r.stageMs)
    .map(([stage, ms]) => `${stage} ${ms.toFixed(0)}`)
    .join(', ');
  console.log(`${r.name.padEnd(8)} | ${String(r.pages).padEnd(5)} | ${(r.cer * 100).toFixed(2).padStart(5)}% | ${`${r.upright}/${r.pages}`.padEnd(7)} | ${r.pagesPerSecond.toFixed(2).padEnd(7)} | ${stages}`);
}
printThresholds(reports);
