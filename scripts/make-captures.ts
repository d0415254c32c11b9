/**
 * Writes generated captures of each kind issue 12 lists, with their ground truth in the forms
 * scripts/measure-real.ts reads, so that they are scored exactly as the real ones are:
 *
 *   node --import tsx scripts/make-captures.ts <out> && node --import tsx scripts/measure-real.ts <out>
 *
 * - `a4-photos/`: A4 pages photographed on a desk (headings, body and small print, a paragraph
 *   with accents), turned any amount, in perspective, some soft, some stored with an EXIF
 *   orientation that contradicts the content; word F1, accents folded.
 * - `receipt-photos/`: thermal receipts held over a table, tilted, curled, half in shadow, a
 *   thumb at the edge; every printed line a segment, SUBTOTAL, TAX and TOTAL the key lines.
 * - `exposure/`: photographs (not documents, judged by the scene gate) exposed right, over (scaled
 *   up and clipped, or washed out) and under; and pages (the document gate) too dark or washed out.
 * - `large-word/`: small crops holding one large word (a sign, a label).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { createProgress } from '../src/cli/progress.js';
import { largeWordCrop, photograph, photographedPage, photographedPageLines, photographedReceipt, type PhotographedPageSpec } from '../test/fixtures/captures.js';
import { asJpeg, exposed, randomLines, renderDocument } from '../test/fixtures/documents.js';
import { storedWithOrientation } from '../test/fixtures/images.js';

interface Capture {
  folder: string;
  name: string;
  image: () => Promise<Buffer>;
  truth: () => Promise<Record<string, unknown>>;
}

/** The A4 photos: each turn, perspective and focus a phone gives, a few with EXIF that lies. */
const A4_SPECS: (PhotographedPageSpec & { exif?: 3 | 6 | 8 })[] = [
  { seed: 1, degrees: 0, keystone: 0.1 },
  { seed: 2, degrees: 4, keystone: 0.15, longSide: 2400 },
  { seed: 3, degrees: 80, keystone: 0.1, longSide: 2400 },
  { seed: 4, degrees: 90, longSide: 2400 },
  { seed: 5, degrees: 177, keystone: 0.12, longSide: 2400 },
  { seed: 6, degrees: 268, longSide: 2400 },
  { seed: 7, degrees: -6, keystone: 0.2, blur: 1, longSide: 2400 },
  { seed: 8, degrees: 2, bodySize: 16, longSide: 2400 },
  // Stored turned a quarter, tagged as a half turn: after applying EXIF the page still lies sideways.
  { seed: 9, degrees: 0, longSide: 2400, exif: 3 },
  { seed: 10, degrees: 90, longSide: 2400, exif: 6 },
];

const RECEIPT_SPECS = [
  { seed: 11, degrees: 2 },
  { seed: 12, degrees: -4, curl: 0.03 },
  { seed: 13, degrees: 6, shadow: 0.45 },
  { seed: 14, degrees: -2, curl: 0.05, thumb: true },
  { seed: 15, degrees: 3, shadow: 0.3, curl: 0.02, longSide: 1200 },
  { seed: 16, degrees: 88, curl: 0.02 },
  { seed: 17, degrees: 0, thumb: true, shadow: 0.5, longSide: 1000 },
  { seed: 18, degrees: -8, curl: 0.04, shadow: 0.35 },
];

/** Exposure of a photograph: scaled (a stop up is 2) or washed out (scaled down, lifted), with its label. */
const PHOTO_EXPOSURES: { label: 'over' | 'under' | 'normal'; scale: number }[] = [
  { label: 'normal', scale: 1 },
  { label: 'over', scale: 1.8 },
  { label: 'over', scale: 2.2 },
  { label: 'under', scale: 0.45 },
  { label: 'under', scale: 0.3 },
];

function captures(): Capture[] {
  const list: Capture[] = [];
  for (const spec of A4_SPECS) {
    const page = { ...spec, accents: true };
    list.push({
      folder: 'a4-photos',
      name: `page_${spec.seed}_${spec.degrees}${spec.exif === undefined ? '' : `_exif${spec.exif}`}`,
      image: async () => {
        const photo = await photographedPage(page);
        if (spec.exif === undefined) return photo;
        // The pixels are stored turned back by the tag's amount from a sideways page: the tag is wrong by a quarter.
        return storedWithOrientation(await sharp(photo).rotate(90).toBuffer(), spec.exif);
      },
      truth: async () => {
        const printed = photographedPageLines(page);
        return { granularity: 'text', text: [...printed.heading, ...printed.body, ...printed.accented, ...printed.small].join('\n') };
      },
    });
  }
  for (const spec of RECEIPT_SPECS) {
    const made = photographedReceipt(spec);
    list.push({
      folder: 'receipt-photos',
      name: `receipt_${spec.seed}`,
      image: async () => (await made).image,
      truth: async () => {
        const { lines, keyLines } = await made;
        return { granularity: 'segments', items: lines.map((text) => ({ text, key: keyLines.includes(text) })) };
      },
    });
  }
  for (let seed = 1; seed <= 6; seed++) {
    for (const { label, scale } of PHOTO_EXPOSURES) {
      list.push({ folder: 'exposure', name: `photo_${seed}_x${scale}`, image: () => photograph(seed, scale), truth: async () => ({ granularity: 'exposure', label, content: 'scene' }) });
    }
    list.push({
      folder: 'exposure',
      name: `photo_${seed}_washed`,
      image: async () => asJpeg(await exposed(await photograph(seed, 1), 0.45, 150), 88),
      truth: async () => ({ granularity: 'exposure', label: 'over', content: 'scene' }),
    });
  }
  for (const [seed, factor, offset, label] of [
    [21, 0.3, 0, 'under'],
    [22, 0.2, 0, 'under'],
    [23, 0.3, 180, 'over'],
    [24, 0.25, 200, 'over'],
    [25, 1, 0, 'normal'],
  ] as const) {
    list.push({
      folder: 'exposure',
      name: `page_${seed}_x${factor}+${offset}`,
      image: async () => asJpeg(await exposed(await renderDocument({ lines: randomLines(seed, 14), width: 1200 }), factor, offset), 85),
      truth: async () => ({ granularity: 'exposure', label }),
    });
  }
  for (const [word, width, height, size] of [
    ['EXIT', 320, 180, 96],
    ['Parking', 320, 180, 72],
    ['INVOICE', 400, 120, 64],
    ['Bakery', 240, 160, 60],
  ] as const) {
    list.push({
      folder: 'large-word',
      name: `word_${word}_${width}x${height}`,
      image: async () => asJpeg(await largeWordCrop(word, width, height, size), 85),
      truth: async () => ({ granularity: 'text', text: word }),
    });
  }
  return list;
}

async function main(): Promise<void> {
  const out = process.argv[2];
  if (out === undefined) throw new Error('Name the folder to write the generated captures to.');
  const list = captures();
  const progress = createProgress(list.length);
  try {
    for (const capture of list) {
      const folder = join(out, capture.folder);
      await mkdir(join(folder, 'images'), { recursive: true });
      await mkdir(join(folder, 'gt'), { recursive: true });
      const image = `images/${capture.name}.jpg`;
      await writeFile(join(folder, image), await capture.image());
      await writeFile(join(folder, 'gt', `${capture.name}.json`), JSON.stringify({ image, ...(await capture.truth()) }, null, 1));
      progress.tick(capture.name);
    }
  } finally {
    progress.stop();
  }
  process.stdout.write(`${list.length} generated captures in ${out}\n`);
}

await main();
