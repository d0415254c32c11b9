import sharp from 'sharp';
import { randomLines, renderDocument, FONTS, asJpeg } from '../test/fixtures/documents.js';

/** Dynamic batching as a deployment turns it on (it is off by default; the benchmarks measure why). */
export const BATCHING_ON = {
  orientation: { maxBatchSize: 16, maxQueueDelayMicros: 1000 },
  recognition: { maxBatchSize: 16, maxQueueDelayMicros: 2000 },
} as const;

export interface BenchContext {
  /** Tiny inputs and few rounds: proves the machinery, measures nothing. */
  quick: boolean;
}

/** One named figure of a benchmark; a ratio carries the target it is held to. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** For ratios: the least (or, with `atMost`, the most) value the issue asks for. */
  target?: number;
  atMost?: boolean;
  note?: string;
}

export interface Benchmark {
  name: string;
  /** What it compares, one line, printed above its figures. */
  describe: string;
  run(context: BenchContext): Promise<Figure[]>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The p-th percentile (0..100), nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Times each case `rounds` times, the cases in turn each round so a busy neighbour slows all of
 * them alike; one untimed warm-up run each first. Milliseconds per run, every sample.
 */
export async function timeInTurn(rounds: number, cases: Record<string, () => Promise<unknown> | unknown>): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = {};
  for (const [name, run] of Object.entries(cases)) {
    await run();
    samples[name] = [];
  }
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(cases)) {
      const start = performance.now();
      await run();
      samples[name].push(performance.now() - start);
    }
  }
  return samples;
}

/** Smooth shading plus sensor-like noise, so the JPEG carries a photo's entropy, not a flat card's. */
export async function photoLikeJpeg(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const noise = (seed >>> 24) / 16 - 8;
      const at = (y * width + x) * 3;
      pixels[at] = 128 + 90 * Math.sin(x / 97) + noise;
      pixels[at + 1] = 128 + 90 * Math.cos(y / 71) + noise;
      pixels[at + 2] = 128 + 60 * Math.sin((x + y) / 53) + noise;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/**
 * Document pages of several lengths (3 to 10 lines), fonts and sizes, as JPEGs a phone or scanner
 * would send; `seed` keeps them apart from the pages the tests and the measurement scripts use.
 */
export async function documentPages(count: number, seed = 5000): Promise<{ bytes: Buffer; lines: string[] }[]> {
  const pages = [];
  for (let i = 0; i < count; i++) {
    const lines = randomLines(seed + i, 3 + (i % 8));
    const png = await renderDocument({ lines, font: FONTS[i % FONTS.length], fontSize: 24 + (i % 4) * 4, width: 1100 });
    pages.push({ bytes: await asJpeg(png, 85), lines });
  }
  return pages;
}

/** Runs `work` over the items with `limit` at a time; resolves when all are done. */
export async function concurrently<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
