import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import sharp from 'sharp';
import { isVisionopsError, type ErrorCode } from '../src/core/errors.js';
import { decodeAdmission } from '../src/image/admission.js';
import { declaredExtents } from '../src/image/bmff.js';
import { ingestConfigSchema, type IngestConfig } from '../src/image/config.js';
import { assertPixelDataPresent } from '../src/image/data-floor.js';
import { firstFrameCoverage } from '../src/image/gif-coverage.js';
import { ingestImage } from '../src/image/ingest.js';
import { errorHandler } from '../src/server/http-errors.js';
import { animated, encodeAs, flatWhite, gifDeclaring, jpegDeclaring, pngDeclaring, quadrantCard, tiffDeclaring } from './fixtures/images.js';

const DEFAULTS = ingestConfigSchema.parse({});
const config = (overrides: Partial<IngestConfig>): IngestConfig => ingestConfigSchema.parse({ ...DEFAULTS, ...overrides });

async function refusal(work: Promise<unknown>, code: ErrorCode): Promise<Error & { details?: Record<string, unknown> }> {
  try {
    await work;
  } catch (error) {
    assert.ok(isVisionopsError(error), `expected a VisionopsError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the image was accepted`);
}

/** Peak RSS growth while `work` runs, sampled every millisecond. */
async function rssGrowth(work: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 1);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage.rss()) - before;
}

test('a JPEG, GIF or TIFF declaring 6000 x 6000 over data for 64 x 64 is CORRUPT_IMAGE, refused before decoding', async () => {
  await ingestImage(await quadrantCard(64, 64), DEFAULTS);
  const jpeg = await jpegDeclaring(6000, 6000);
  assert.ok(jpeg.length < 400, `${jpeg.length} bytes`);
  assert.deepEqual(await sharp(jpeg).metadata().then(({ width, height }) => [width, height]), [6000, 6000]);
  // A decode would fill 108 MB of grey; the refusal reads markers only.
  const growth = await rssGrowth(async () => {
    const error = await refusal(ingestImage(jpeg, DEFAULTS), 'CORRUPT_IMAGE');
    assert.match(error.message, /declares 6000 x 6000 pixels/);
    assert.match(error.message, /needs at least 70,313/);
  });
  assert.ok(growth < 50 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MB`);

  assert.match((await refusal(ingestImage(await gifDeclaring(6000, 6000), DEFAULTS), 'CORRUPT_IMAGE')).message, /GIF file declares 6000 x 6000 pixels but its data codes 4,096/);
  assert.match((await refusal(ingestImage(await tiffDeclaring(6000, 6000), DEFAULTS), 'CORRUPT_IMAGE')).message, /TIFF file declares 6000 x 6000/);
});

test('the smallest file each format makes for its size (flat white) still decodes', async () => {
  const side = 1200;
  const smallest: [string, Buffer][] = [
    ['jpeg mozjpeg q10', await flatWhite(side, side).jpeg({ quality: 10, mozjpeg: true }).toBuffer()],
    ['jpeg grey progressive', await flatWhite(side, side).greyscale().jpeg({ quality: 10, progressive: true, optimiseCoding: true }).toBuffer()],
    ['png 1-bit palette', await flatWhite(side, side).png({ palette: true, colours: 2, compressionLevel: 9 }).toBuffer()],
    ['webp lossless', await flatWhite(side, side).webp({ lossless: true }).toBuffer()],
    ['webp lossy', await flatWhite(side, side).webp({ quality: 10 }).toBuffer()],
    ['gif', await flatWhite(side, side).gif().toBuffer()],
    ['tiff deflate', await flatWhite(side, side).tiff({ compression: 'deflate' }).toBuffer()],
    ['tiff lzw', await flatWhite(side, side).tiff({ compression: 'lzw' }).toBuffer()],
    ['tiff jpeg', await flatWhite(side, side).tiff({ compression: 'jpeg', quality: 10 }).toBuffer()],
    ['tiff packbits', await flatWhite(side, side).tiff({ compression: 'packbits' }).toBuffer()],
    ['tiff uncompressed', await flatWhite(side, side).tiff({ compression: 'none' }).toBuffer()],
    ['avif', await flatWhite(1000, 1000).avif({ quality: 10, effort: 0 }).toBuffer()],
  ];
  for (const [name, bytes] of smallest) {
    const image = await ingestImage(bytes, DEFAULTS);
    assert.equal(image.width * image.height, name === 'avif' ? 1000 * 1000 : side * side, name);
    assert.ok(image.frame.data.every((value) => value >= 250), `${name}: not white`);
  }
});

test('the JPEG floor is one bit per 8 x 8 block of Huffman-coded data; arithmetic coding is left to the decoder', async () => {
  const jpeg = await jpegDeclaring(6000, 6000);
  assert.throws(() => assertPixelDataPresent(jpeg, 'jpeg', 6000, 6000), (error) => isVisionopsError(error) && error.code === 'CORRUPT_IMAGE');
  assert.doesNotThrow(() => assertPixelDataPresent(jpeg, 'jpeg', 64, 64));
  const arithmetic = Buffer.from(jpeg);
  arithmetic[arithmetic.indexOf(Buffer.from([0xff, 0xc0])) + 1] = 0xc9;
  assert.doesNotThrow(() => assertPixelDataPresent(arithmetic, 'jpeg', 6000, 6000));
});

test('a TIFF is held to its strips: all there, inside the file, and as long as its compression needs', async () => {
  const forged = await tiffDeclaring(6000, 6000);
  assert.throws(() => assertPixelDataPresent(forged, 'tiff', 6000, 6000), (error) => isVisionopsError(error) && error.code === 'CORRUPT_IMAGE');
  // Without StripByteCounts (old writers omit it; libtiff works it out) there is nothing to hold it to.
  const withoutCounts = Buffer.from(forged);
  const ifd = withoutCounts.readUInt32LE(4);
  for (let i = 0; i < withoutCounts.readUInt16LE(ifd); i++) {
    if (withoutCounts.readUInt16LE(ifd + 2 + i * 12) === 279) withoutCounts.writeUInt16LE(65000, ifd + 2 + i * 12);
  }
  assert.doesNotThrow(() => assertPixelDataPresent(withoutCounts, 'tiff', 6000, 6000));
  // A strip pointing past the end of the file is missing data, whatever its compression.
  const real = await flatWhite(64, 64).tiff({ compression: 'deflate' }).toBuffer();
  assert.doesNotThrow(() => assertPixelDataPresent(real, 'tiff', 64, 64));
  const overlong = Buffer.from(real);
  const realIfd = overlong.readUInt32LE(4);
  for (let i = 0; i < overlong.readUInt16LE(realIfd); i++) {
    const entry = realIfd + 2 + i * 12;
    if (overlong.readUInt16LE(entry) === 279 && overlong.readUInt32LE(entry + 4) === 1) overlong.writeUInt32LE(real.length, entry + 8);
  }
  assert.throws(() => assertPixelDataPresent(overlong, 'tiff', 64, 64), (error) => isVisionopsError(error) && error.code === 'CORRUPT_IMAGE');
});

test('with the pixel budget taken, an image waits for room, then is refused OVERLOADED with a retry time', async () => {
  const card = await quadrantCard(96, 64);
  const budget = { inflightPixels: 10_000 };
  const hold = await decodeAdmission.admit(10_000, { budget: 10_000, waitMs: 0 });
  try {
    const error = await refusal(ingestImage(card, config({ ...budget, inflightWaitMs: 20 })), 'OVERLOADED');
    assert.match(error.message, /ingest\.inflightPixels/);
    assert.equal(error.details?.retryAfterSeconds, 1);
    assert.equal(decodeAdmission.waiting, 0, 'the refused image left the queue');

    const waiting = ingestImage(card, config({ ...budget, inflightWaitMs: 60_000 }));
    // It reads its header (on a libvips thread) before it queues.
    for (let turn = 0; turn < 5000 && decodeAdmission.waiting === 0; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(decodeAdmission.waiting, 1);
    hold();
    const image = await waiting;
    assert.deepEqual([image.width, image.height], [96, 64]);
  } finally {
    hold();
  }
  assert.equal(decodeAdmission.pixelsInFlight, 0, 'every admitted image gave its pixels back');
});

test('OVERLOADED is a 503 with Retry-After', async () => {
  const hold = await decodeAdmission.admit(1, { budget: 1, waitMs: 0 });
  const app = Fastify();
  app.setErrorHandler(errorHandler());
  app.post('/ingest', async (request) => {
    await ingestImage(request.body as Buffer, config({ inflightPixels: 1, inflightWaitMs: 1500 }));
    return { ok: true };
  });
  app.addContentTypeParser('image/png', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  try {
    const response = await app.inject({ method: 'POST', url: '/ingest', headers: { 'content-type': 'image/png' }, payload: await quadrantCard(8, 8) });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], '2');
    assert.equal(response.json().error.code, 'OVERLOADED');
  } finally {
    hold();
    await app.close();
  }
});

test('a side over 65,535 pixels is IMAGE_TOO_LARGE, read from an AVIF before libheif sees it, from other headers after', async () => {
  const avif = await flatWhite(48, 32).avif({ effort: 0 }).toBuffer();
  assert.deepEqual(declaredExtents(avif), [{ width: 48, height: 32 }]);
  for (const [width, height] of [
    [16_777_216, 2],
    [2 ** 31 - 1, 2 ** 31 - 1],
  ]) {
    const declaring = Buffer.from(avif);
    const ispe = declaring.indexOf('ispe');
    declaring.writeUInt32BE(width, ispe + 8);
    declaring.writeUInt32BE(height, ispe + 12);
    const error = await refusal(ingestImage(declaring, DEFAULTS), 'IMAGE_TOO_LARGE');
    assert.match(error.message, new RegExp(`${width} x ${height} pixels, over 65,535 on a side`));
  }
  // Under the pixel limit, over the side limit: refused from the header libvips reads.
  assert.match((await refusal(ingestImage(pngDeclaring(70_000, 64), DEFAULTS), 'IMAGE_TOO_LARGE')).message, /over 65,535 on a side/);
});

test('a GIF is held to the pixels its LZW codes: half its first frame, a sixteenth of its canvas', async () => {
  const card = await quadrantCard(96, 64);
  for (const bytes of [await encodeAs(card, 'gif'), await animated(40, 30, ['#f00', '#0f0'], 'gif'), await flatWhite(1200, 1200).gif().toBuffer()]) {
    const coverage = firstFrameCoverage(bytes);
    assert.ok(coverage);
    assert.equal(coverage.codedPixels, coverage.width * coverage.height, 'a real GIF codes every pixel of its frame');
  }
  const forged = firstFrameCoverage(await gifDeclaring(6000, 6000));
  assert.deepEqual(forged && [forged.width, forged.height, forged.codedPixels], [6000, 6000, 4096]);

  const onCanvas = (side: number) => {
    const bytes = Buffer.from(gif);
    bytes.writeUInt16LE(side, 6);
    bytes.writeUInt16LE(side, 8);
    return bytes;
  };
  const gif = await encodeAs(await quadrantCard(64, 64), 'gif');
  const image = await ingestImage(onCanvas(128), DEFAULTS);
  assert.deepEqual([image.width, image.height], [128, 128], 'a frame on a canvas 4 times its size is painted in');
  const error = await refusal(ingestImage(onCanvas(1024), DEFAULTS), 'CORRUPT_IMAGE');
  assert.match(error.message, /declares 1024 x 1024 pixels but its data codes 4,096 of them/);
});
