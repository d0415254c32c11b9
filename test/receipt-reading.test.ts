import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ingestImage } from '../src/image/ingest.js';
import { ingestConfigSchema } from '../src/image/config.js';
import { loadDocumentPipeline, type DocumentPipeline } from '../src/pipeline/document.js';
import { pipelineConfigSchema } from '../src/pipeline/config.js';
import type { DocumentResult } from '../src/core/records/prediction.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import { renderThermalReceipt } from './fixtures/receipts.js';

let reader: DocumentPipeline;

before(async () => {
  reader = await loadDocumentPipeline(pipelineConfigSchema.parse({}), runtimeConfigSchema.parse({}));
});

after(async () => {
  await reader.close();
});

async function read(image: Buffer): Promise<DocumentResult> {
  const ingested = await ingestImage(new Uint8Array(image), ingestConfigSchema.parse({}));
  const { result } = await reader.read(ingested.frame, { exifOrientation: ingested.exifOrientation });
  return result;
}

const words = (text: string) => text.toUpperCase().split(/\s+/).filter((w) => w !== '');

/** Word F1 as docs/real-world.md scores real captures: multisets of upper-cased words. */
function wordF1(read: string[], truth: string[]): number {
  const left = new Map<string, number>();
  for (const w of truth) left.set(w, (left.get(w) ?? 0) + 1);
  let matched = 0;
  for (const w of read) {
    const n = left.get(w) ?? 0;
    if (n > 0) {
      matched++;
      left.set(w, n - 1);
    }
  }
  return (2 * matched) / (read.length + truth.length);
}

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
    const f1 = wordF1(got, truth);
    assert.ok(f1 >= 0.95, `seed ${seed}: word F1 ${f1.toFixed(3)}\n${receipt.lines.join('\n')}\n---\n${result.text}`);
    for (const amount of receipt.lines.map((line) => line.split(' ').pop() as string)) assert.ok(got.includes(amount), `seed ${seed}: amount ${amount} not read whole\n${result.text}`);
    assert.ok(
      result.lines.some((line) => line.text.toUpperCase() === receipt.total),
      `seed ${seed}: "${receipt.total}" is not one line:\n${result.lines.map((l) => l.text).join('\n')}`,
    );
  }
});
