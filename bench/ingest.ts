/**
 * Ingest of camera-sized JPEGs against a bare sharp decode of the same bytes run beside it. The
 * ratio is what ingest adds to the decode itself: limits, header read, orientation and colour
 * handling, SHA-256 and the perceptual hash.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { toGray } from '../src/core/frame.js';
import { perceptualHash } from '../src/core/hash/perceptual.js';
import { ingestConfigSchema } from '../src/image/config.js';
import { decodeUpright } from '../src/image/decode.js';
import { ingestImage } from '../src/image/ingest.js';
import { median, photoLikeJpeg, timeInTurn, type Benchmark, type Figure } from './lib.js';

export const ingestBenchmark: Benchmark = {
  name: 'ingest',
  describe: 'ingestImage of 1080p and 12 MP JPEGs vs a bare sharp decode of the same bytes',
  async run({ quick }) {
    const config = ingestConfigSchema.parse({});
    const rounds = quick ? 2 : 15;
    const sizes = quick ? ([['small', 320, 240]] as const) : ([['1080p', 1920, 1080], ['12mp', 4000, 3000]] as const);
    const figures: Figure[] = [];
    for (const [label, width, height] of sizes) {
      const jpeg = await photoLikeJpeg(width, height);
      const { frame } = await ingestImage(jpeg, config);
      const gray = toGray(frame);
      const t = await timeInTurn(rounds, {
        bare: () => sharp(jpeg).raw().toBuffer(),
        decode: () => decodeUpright(jpeg, 'jpeg', config.maxPixels),
        ingest: () => ingestImage(jpeg, config),
        toGray: () => toGray(frame),
        phash: () => perceptualHash(gray),
        sha256: () => createHash('sha256').update(jpeg).digest('hex'),
      });
      figures.push(
        { name: `ingest.${label}.bare_decode_ms`, value: median(t.bare), unit: 'ms' },
        { name: `ingest.${label}.decode_upright_ms`, value: median(t.decode), unit: 'ms' },
        { name: `ingest.${label}.ingest_ms`, value: median(t.ingest), unit: 'ms' },
        { name: `ingest.${label}.ingest_to_bare_decode`, value: median(t.ingest) / median(t.bare), unit: 'x' },
        { name: `ingest.${label}.to_gray_ms`, value: median(t.toGray), unit: 'ms' },
        { name: `ingest.${label}.phash_ms`, value: median(t.phash), unit: 'ms' },
        { name: `ingest.${label}.sha256_ms`, value: median(t.sha256), unit: 'ms' },
      );
    }
    return figures;
  },
};
