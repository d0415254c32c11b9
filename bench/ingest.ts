/**
 * Ingest of camera-sized JPEGs, against a bare sharp decode of the same bytes run beside it.
 * Run: node --import tsx bench/ingest.ts
 * The ratio is what ingest adds to the decode itself: limits, header read, orientation and colour
 * handling, SHA-256 and the perceptual hash.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { toGray } from '../src/core/frame.js';
import { perceptualHash } from '../src/core/hash/perceptual.js';
import { ingestConfigSchema } from '../src/image/config.js';
import { decodeUpright } from '../src/image/decode.js';
import { ingestImage } from '../src/image/ingest.js';

const ROUNDS = 15;
const config = ingestConfigSchema.parse({});

/** Smooth shading plus sensor-like noise, so the JPEG carries a photo's entropy, not a flat card's. */
async function photoLikeJpeg(width: number, height: number): Promise<Buffer> {
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

interface Timing {
  median: number;
  min: number;
}

/** Runs the cases in turn each round, so a busy neighbour slows all of them alike. */
async function timeInTurn(cases: Record<string, () => Promise<unknown> | unknown>): Promise<Record<string, Timing>> {
  const samples: Record<string, number[]> = {};
  for (const [name, run] of Object.entries(cases)) {
    await run();
    samples[name] = [];
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(cases)) {
      const start = performance.now();
      await run();
      samples[name].push(performance.now() - start);
    }
  }
  const out: Record<string, Timing> = {};
  for (const [name, times] of Object.entries(samples)) {
    times.sort((a, b) => a - b);
    out[name] = { median: times[Math.floor(times.length / 2)], min: times[0] };
  }
  return out;
}

const show = (timing: Timing) => `${timing.median.toFixed(1)} ms (min ${timing.min.toFixed(1)})`;

for (const [label, width, height] of [['1080p', 1920, 1080], ['12 MP', 4000, 3000]] as const) {
  const jpeg = await photoLikeJpeg(width, height);
  const { frame } = await ingestImage(jpeg, config);
  const gray = toGray(frame);
  const t = await timeInTurn({
    bare: () => sharp(jpeg).raw().toBuffer(),
    decode: () => decodeUpright(jpeg, 'jpeg', config.maxPixels),
    ingest: () => ingestImage(jpeg, config),
    toGray: () => toGray(frame),
    phash: () => perceptualHash(gray),
    sha256: () => createHash('sha256').update(jpeg).digest('hex'),
  });
  console.log(`${label} JPEG, ${width} x ${height}, ${(jpeg.length / 1e6).toFixed(2)} MB, median of ${ROUNDS}:`);
  console.log(`  bare sharp decode (baseline)   ${show(t.bare)}`);
  console.log(`  decodeUpright                  ${show(t.decode)}  x${(t.decode.median / t.bare.median).toFixed(2)}`);
  console.log(`  ingestImage                    ${show(t.ingest)}  x${(t.ingest.median / t.bare.median).toFixed(2)}`);
  console.log(`    of which toGray ${show(t.toGray)}, perceptualHash ${show(t.phash)}, SHA-256 ${show(t.sha256)}`);
}
