/**
 * Makes photos labelled over-, under- and rightly exposed from a folder of real photos taken in
 * good light (none such is labelled in the development data), with ground truth in the form
 * scripts/measure-real.ts reads:
 *
 *   node --import tsx scripts/exposure-variants.ts <photos> <out> [--scene]
 *   node --import tsx scripts/measure-real.ts <out> --gate-only
 *
 * Each photo, upright and at most 2000 px, is written as it is (normal) and changed two ways:
 * - as a camera misjudging exposure: first exposed right (stops added or taken in linear light
 *   until its 98th percentile of luma is 235: casual photos of paper are often dim, and a stop
 *   over a dim photo is a well exposed one), written as normal, then +1 and +1.5 EV (over) and
 *   -1 and -1.5 EV (under) from there, encoded to sRGB again and clipped;
 * - as an editor would, on the photo as taken: its 8-bit values scaled and clipped (x1.8, x2.2
 *   over; x0.45, x0.3 under), and washed out (x0.45 + 150, over).
 * `--scene` labels them for the scene gate (photographs that are not documents).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { createProgress } from '../src/cli/progress.js';
import { toGray } from '../src/core/frame.js';
import { histogramPercentile, lumaHistogram } from '../src/core/quality/luma.js';

type Label = 'over' | 'under' | 'normal';

interface Variant {
  name: string;
  label: Label;
  /** The new 8-bit value of each old one: `base` is the stops that expose the photo right. */
  curve: (value: number, base: number) => number;
}

const toLinear = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const toSrgb = (v: number) => (v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055);
const stops = (ev: number) => (value: number, base: number) => 255 * toSrgb(Math.min(1, toLinear(value / 255) * 2 ** (base + ev)));
const scaled = (gain: number, lift = 0) => (value: number) => value * gain + lift;

/** Where the 98th percentile of a rightly exposed photo's luma lies (paper, not clipped). */
const RIGHT_P98 = 235;

const VARIANTS: Variant[] = [
  { name: 'x1', label: 'normal', curve: (value) => value },
  { name: 'ev0', label: 'normal', curve: stops(0) },
  { name: 'ev+1', label: 'over', curve: stops(1) },
  { name: 'ev+1.5', label: 'over', curve: stops(1.5) },
  { name: 'ev-1', label: 'under', curve: stops(-1) },
  { name: 'ev-1.5', label: 'under', curve: stops(-1.5) },
  { name: 'x1.8', label: 'over', curve: scaled(1.8) },
  { name: 'x2.2', label: 'over', curve: scaled(2.2) },
  { name: 'x0.45', label: 'under', curve: scaled(0.45) },
  { name: 'x0.3', label: 'under', curve: scaled(0.3) },
  { name: 'washed', label: 'over', curve: scaled(0.45, 150) },
];

const IMAGE = /\.(jpe?g|png|webp|tiff?)$/i;

async function main(): Promise<void> {
  const [input, out] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  if (input === undefined || out === undefined) throw new Error('usage: exposure-variants.ts <photos> <out> [--scene]');
  const scene = process.argv.includes('--scene');
  const folder = (await readdir(input)).includes('images') ? join(input, 'images') : input;
  const photos = (await readdir(folder)).filter((name) => IMAGE.test(name)).sort();
  await mkdir(join(out, 'images'), { recursive: true });
  await mkdir(join(out, 'gt'), { recursive: true });
  const progress = createProgress(photos.length * VARIANTS.length);
  for (const photo of photos) {
    const { data, info } = await sharp(join(folder, photo)).rotate().resize({ width: 2000, height: 2000, fit: 'inside', withoutEnlargement: true }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const stem = basename(photo, extname(photo));
    const luma = toGray({ width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) });
    const p98 = Math.max(1, histogramPercentile(lumaHistogram(luma), 0.98));
    const base = Math.log2(toLinear(RIGHT_P98 / 255) / toLinear(p98 / 255));
    for (const variant of VARIANTS) {
      const table = Uint8Array.from({ length: 256 }, (_, value) => Math.round(Math.max(0, Math.min(255, variant.curve(value, base)))));
      const changed = Buffer.from(data.map((value) => table[value]));
      const image = `images/${stem}_${variant.name}.jpg`;
      await sharp(changed, { raw: { width: info.width, height: info.height, channels: info.channels } }).jpeg({ quality: 88 }).toFile(join(out, image));
      const truth = { granularity: 'exposure', label: variant.label, image, ...(scene ? { content: 'scene' } : {}) };
      await writeFile(join(out, 'gt', `${stem}_${variant.name}.json`), `${JSON.stringify(truth)}\n`);
      progress.tick(`${stem} ${variant.name}`);
    }
  }
  progress.stop();
}

await main();
