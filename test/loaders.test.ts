import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { isVisionopsError } from '../src/core/errors.js';
import { blockUnacceptedLoaders, decodeUpright, readHeader } from '../src/image/decode.js';
import { ingestConfigSchema } from '../src/image/config.js';
import { ingestImage } from '../src/image/ingest.js';
import { encodeAs, quadrantCard, type EncodableFormat } from './fixtures/images.js';

const DEFAULTS = ingestConfigSchema.parse({});
const FORMATS: EncodableFormat[] = ['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif'];
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="#c33"/></svg>');

const unsupported = (error: unknown) => isVisionopsError(error) && error.code === 'UNSUPPORTED_FORMAT';

// Blocking is process-wide: this file blocks, so it is the only one that may.
test('with the other loaders blocked, every accepted format still decodes and SVG reaches no parser', async () => {
  const encoded = await Promise.all(FORMATS.map(async (format) => [format, await encodeAs(await quadrantCard(48, 32), format)] as const));
  assert.equal((await sharp(SVG).metadata()).format, 'svg', 'libvips reads SVG until it is blocked');

  blockUnacceptedLoaders();

  for (const [format, bytes] of encoded) {
    const image = await ingestImage(bytes, DEFAULTS);
    assert.equal(image.format, format);
    assert.deepEqual([image.width, image.height], [48, 32], format);
  }
  // Sniffing refuses these first; were it fooled, the decoder would refuse them too.
  await assert.rejects(ingestImage(SVG, DEFAULTS), unsupported);
  await assert.rejects(readHeader(SVG, 'png'), unsupported);
  await assert.rejects(decodeUpright(SVG, 'png', DEFAULTS.maxPixels), unsupported);
});
