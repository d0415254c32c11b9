/**
 * The lab line accuracy of the built-in document pipeline, the figure its recognition manifest
 * carries (`metrics.lineAccuracy`) and `GET /v1/reviews/stats` shows beside the production
 * accuracy that audits measure. Defined as production accuracy is: of the lines the pipeline
 * read, plus the reference lines it found no box for, the share read exactly (spaces count).
 *
 *   node --import tsx scripts/measure-lab-accuracy.ts [--pages 60] [--review-threshold 0.93]
 *
 * Pages: upright, DejaVu Sans, Serif and Mono in turn; 18-40 px; skew -3..3 degrees; JPEG 60-90;
 * 3-8 lines. Seeds 50,000 + page, apart from the tests' and scripts/measure-ocr.ts's pages.
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { pipelineConfigSchema } from '../src/pipeline/config.js';
import { wilsonInterval } from '../src/review/stats.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import { asJpeg, FONTS, randomLines, renderDocument, seededRandom } from '../test/fixtures/documents.js';

const { values: args } = parseArgs({ options: { pages: { type: 'string', default: '60' }, 'review-threshold': { type: 'string', default: '0.93' } } });
const pageCount = Number(args.pages);
const reviewThreshold = Number(args['review-threshold']);

interface Tally {
  lines: number;
  exact: number;
}
const all: Tally = { lines: 0, exact: 0 };
const accepted: Tally = { lines: 0, exact: 0 };
let acceptedPages = 0;

const pipeline = await loadDocumentPipeline(pipelineConfigSchema.parse({}), runtimeConfigSchema.parse({}));
for (let index = 0; index < pageCount; index++) {
  const seed = 50_000 + index;
  const rand = seededRandom(seed);
  const fontSize = 18 + Math.floor(rand() * 23);
  const skew = rand() * 6 - 3;
  const quality = 60 + Math.floor(rand() * 31);
  const lines = randomLines(seed * 13, 3 + Math.floor(rand() * 6));
  const width = Math.max(800, Math.round(fontSize * 3 + Math.max(...lines.map((line) => line.length)) * fontSize * 0.66));
  const image = await asJpeg(await renderDocument({ lines, font: FONTS[index % FONTS.length], fontSize, skewDegrees: skew, width }), quality);
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { result } = await pipeline.read({ width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) }, { exifOrientation: 1 });

  // Each reference line can vouch for one read line; lines with no box at all are the ones a reviewer would add.
  const unmatched = [...lines];
  let exact = 0;
  for (const line of result.lines) {
    const at = unmatched.indexOf(line.text);
    if (at >= 0) {
      unmatched.splice(at, 1);
      exact++;
    }
  }
  const counted = result.lines.length + Math.max(0, lines.length - result.lines.length);
  all.lines += counted;
  all.exact += exact;
  if (result.lines.length > 0 && result.lines.every((line) => line.confidence >= reviewThreshold)) {
    acceptedPages++;
    accepted.lines += counted;
    accepted.exact += exact;
  }
  if (exact < counted) console.log(`page ${index} (${fontSize}px, skew ${skew.toFixed(1)}, q${quality}): ${exact}/${counted} lines exact`);
}
await pipeline.close();

const report = (label: string, tally: Tally) => {
  const interval = wilsonInterval(tally.exact, tally.lines);
  console.log(`${label}: ${tally.exact}/${tally.lines} lines exact = ${(tally.exact / tally.lines).toFixed(4)} (Wilson 95%: ${interval?.low.toFixed(4)} to ${interval?.high.toFixed(4)})`);
};
report(`all ${pageCount} pages`, all);
report(`${acceptedPages} pages the decision would accept (every line >= ${reviewThreshold})`, accepted);
