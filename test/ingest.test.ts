import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { isVisionopsError, type ErrorCode } from '../src/core/errors.js';
import type { Frame } from '../src/core/frame.js';
import { hammingDistance, perceptualHash } from '../src/core/hash/perceptual.js';
import { ingestConfigSchema, type IngestConfig } from '../src/image/config.js';
import { ingestImage } from '../src/image/ingest.js';
import { sniffFormat } from '../src/image/sniff.js';
import { asJpeg, randomLines, renderDocument } from './fixtures/documents.js';
import {
  BLUE,
  RED,
  animated,
  encodeAs,
  garbageAfter,
  heicContainer,
  malformedExif,
  pngDeclaring,
  quadrantCard,
  randomBytes,
  storedWithOrientation,
  truncated,
  withApp1Segment,
  withCaptureExif,
  withExtraneousBytesBeforeMarker,
  type EncodableFormat,
} from './fixtures/images.js';

const DEFAULTS = ingestConfigSchema.parse({});
const config = (overrides: Partial<IngestConfig> = {}): IngestConfig => ingestConfigSchema.parse({ ...DEFAULTS, ...overrides });
const FORMATS: EncodableFormat[] = ['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif'];
const WIDTH = 96;
const HEIGHT = 64;

function pixel(frame: Frame, x: number, y: number): [number, number, number] {
  const at = (y * frame.width + x) * frame.channels;
  return [frame.data[at], frame.data[at + 1], frame.data[at + 2]];
}

/** Within `tolerance` per channel: lossy codecs move colours a little. */
function assertColour(actual: [number, number, number], expected: { r: number; g: number; b: number }, tolerance = 40): void {
  const [r, g, b] = actual;
  assert.ok(
    Math.abs(r - expected.r) <= tolerance && Math.abs(g - expected.g) <= tolerance && Math.abs(b - expected.b) <= tolerance,
    `expected about ${JSON.stringify(expected)}, got [${actual.join(', ')}]`,
  );
}

/** The upright card: red top-left quadrant, blue elsewhere. */
function assertUprightCard(frame: Frame): void {
  assertColour(pixel(frame, 5, 5), RED);
  assertColour(pixel(frame, frame.width - 5, 5), BLUE);
  assertColour(pixel(frame, 5, frame.height - 5), BLUE);
  assertColour(pixel(frame, frame.width - 5, frame.height - 5), BLUE);
}

async function rejects(bytes: Uint8Array, code: ErrorCode, settings = DEFAULTS): Promise<Error> {
  try {
    await ingestImage(bytes, settings);
  } catch (error) {
    assert.ok(isVisionopsError(error), `expected a VisionopsError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the image was accepted`);
}

test('sniffFormat names each accepted format from its bytes alone', async () => {
  const card = await quadrantCard(WIDTH, HEIGHT);
  for (const format of FORMATS) assert.equal(sniffFormat(await encodeAs(card, format)), format);
  assert.equal(sniffFormat(heicContainer(64, 64)), 'heif');
  assert.equal(sniffFormat(randomBytes(256)), null);
  assert.equal(sniffFormat(new Uint8Array(0)), null);
  assert.equal(sniffFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), null);
  const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom\0\0\0\0isomiso2', 'latin1')]);
  assert.equal(sniffFormat(mp4), null);
});

test('every accepted format decodes to an upright RGB frame of its size', async () => {
  const card = await quadrantCard(WIDTH, HEIGHT);
  for (const format of FORMATS) {
    const bytes = await encodeAs(card, format);
    const image = await ingestImage(bytes, DEFAULTS);
    assert.equal(image.format, format);
    assert.equal(image.bytes, bytes.length);
    assert.deepEqual([image.width, image.height], [WIDTH, HEIGHT], format);
    assert.deepEqual([image.frame.width, image.frame.height, image.frame.channels], [WIDTH, HEIGHT, 3], format);
    assert.equal(image.frame.data.length, WIDTH * HEIGHT * 3);
    assertUprightCard(image.frame);
  }
});

test('an animated GIF gives its first frame; more frames than maxFrames is refused', async () => {
  const gif = await animated(40, 30, ['#ff0000', '#00ff00', '#0000ff'], 'gif');
  const image = await ingestImage(gif, DEFAULTS);
  assert.deepEqual([image.width, image.height], [40, 30]);
  assertColour(pixel(image.frame, 20, 15), { r: 255, g: 0, b: 0 }, 10);

  const error = await rejects(gif, 'TOO_MANY_FRAMES', config({ maxFrames: 2 }));
  assert.match(error.message, /3 frames.*limit of 2.*ingest\.maxFrames/);
  await rejects(await animated(40, 30, ['#fff', '#000', '#fff'], 'tiff'), 'TOO_MANY_FRAMES', config({ maxFrames: 2 }));
});

test('EXIF orientations 6, 8 and 3 are applied, and the tag found is reported', async () => {
  const upright = await quadrantCard(WIDTH, HEIGHT);
  for (const orientation of [6, 8, 3] as const) {
    const stored = await storedWithOrientation(upright, orientation);
    const header = await sharp(stored).metadata();
    assert.equal(header.orientation, orientation);
    const image = await ingestImage(stored, DEFAULTS);
    assert.equal(image.exifOrientation, orientation);
    assert.deepEqual([image.width, image.height], [WIDTH, HEIGHT], `orientation ${orientation}`);
    assertUprightCard(image.frame);
  }
  assert.equal((await ingestImage(await encodeAs(upright, 'jpeg'), DEFAULTS)).exifOrientation, 1);
});

test('capture EXIF is kept, GPS only with keepGps', async () => {
  const photo = await withCaptureExif(await quadrantCard(WIDTH, HEIGHT), { gps: true });

  const { exif } = (await ingestImage(photo, DEFAULTS)).metadata;
  assert.equal(exif.Make, 'Acme');
  assert.equal(exif.Model, 'Phone 9');
  assert.equal(exif.Software, 'Camera 4.2');
  assert.equal(exif.DateTimeOriginal, '2024-05-01T10:20:30');
  assert.equal(exif.OffsetTimeOriginal, '+02:00');
  assert.equal(exif.ExposureTime, 1 / 125);
  assert.equal(exif.FNumber, 2.8);
  assert.equal(exif.ISO, 200);
  assert.equal(exif.FocalLength, 4.2);
  assert.deepEqual(Object.keys(exif).filter((key) => key.startsWith('GPS')), []);

  const kept = (await ingestImage(photo, config({ keepGps: true }))).metadata.exif;
  assert.ok(Math.abs(Number(kept.GPSLatitude) - (48 + 51 / 60 + 30 / 3600)) < 1e-9);
  assert.ok(Math.abs(Number(kept.GPSLongitude) + (2 + 17 / 60 + 40 / 3600)) < 1e-9, 'west is negative');
  assert.equal(kept.GPSAltitude, -35, 'below sea level is negative');
  assert.equal(kept.Make, 'Acme');
});

test('a malformed EXIF block is ignored and the image still ingested', async () => {
  const jpeg = withApp1Segment(await encodeAs(await quadrantCard(WIDTH, HEIGHT), 'jpeg'), malformedExif(3));
  const image = await ingestImage(jpeg, DEFAULTS);
  assert.deepEqual(image.metadata.exif, {});
  assertUprightCard(image.frame);
});

test('metadata says density and ICC when the file does, and passes the source through', async () => {
  const card = await quadrantCard(WIDTH, HEIGHT);
  const plain = await ingestImage(card, DEFAULTS, { deviceId: 'cam-7', capturedAt: '2024-05-01T10:20:30Z' });
  assert.equal(plain.metadata.density, null);
  assert.equal(plain.metadata.hasIcc, false);
  assert.deepEqual(plain.metadata.source, { deviceId: 'cam-7', capturedAt: '2024-05-01T10:20:30Z' });

  const tagged = await sharp(card).withIccProfile('p3').withMetadata({ density: 300 }).jpeg().toBuffer();
  const image = await ingestImage(tagged, DEFAULTS);
  assert.equal(image.metadata.density, 300);
  assert.equal(image.metadata.hasIcc, true);
  assert.deepEqual(image.metadata.source, {});
});

test('transparency is flattened on white; grey, 16-bit and CMYK inputs come out as 8-bit RGB', async () => {
  const clear = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
  assert.deepEqual(pixel((await ingestImage(clear, DEFAULTS)).frame, 4, 4), [255, 255, 255]);

  const grey16 = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777777' } }).toColourspace('grey16').png().toBuffer();
  const grey = (await ingestImage(grey16, DEFAULTS)).frame;
  assert.equal(grey.data.length, 8 * 8 * 3);
  assert.deepEqual(pixel(grey, 4, 4), [0x77, 0x77, 0x77]);

  // CMYK's gamut dulls a saturated blue on the way there and back; it must still come out blue.
  const cmyk = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3366cc' } }).toColourspace('cmyk').jpeg().toBuffer();
  const fromCmyk = (await ingestImage(cmyk, DEFAULTS)).frame;
  assert.equal(fromCmyk.data.length, 8 * 8 * 3);
  const [r, g, b] = pixel(fromCmyk, 4, 4);
  assert.ok(b > g && g > r && b - r > 80, `expected blue, got [${r}, ${g}, ${b}]`);
});

test('an empty body, an oversized body and unknown bytes are refused before decoding', async () => {
  await rejects(new Uint8Array(0), 'EMPTY_BODY');
  const png = await quadrantCard(WIDTH, HEIGHT);
  const error = await rejects(png, 'IMAGE_TOO_LARGE', config({ maxBytes: png.length - 1 }));
  assert.match(error.message, /ingest\.maxBytes/);
  // The size limit comes before sniffing: oversized garbage is too large, not unsupported.
  await rejects(randomBytes(2048), 'IMAGE_TOO_LARGE', config({ maxBytes: 1024 }));
  const unsupported = await rejects(randomBytes(2048), 'UNSUPPORTED_FORMAT');
  assert.match(unsupported.message, /JPEG, PNG, WebP, TIFF, GIF, AVIF, HEIF/);
});

test('truncated or damaged files are CORRUPT_IMAGE', async () => {
  const card = await quadrantCard(WIDTH, HEIGHT);
  const jpeg = await encodeAs(card, 'jpeg');
  const png = await encodeAs(card, 'png');
  await rejects(truncated(jpeg, 0.6), 'CORRUPT_IMAGE');
  await rejects(truncated(png, 0.6), 'CORRUPT_IMAGE');
  // A valid signature and IHDR, noise after: the header reads, the pixels do not.
  await rejects(garbageAfter(png, 33), 'CORRUPT_IMAGE');
  // A JPEG whose tables are noise fails on its header.
  await rejects(garbageAfter(jpeg, 200), 'CORRUPT_IMAGE');
});

test('a JPEG with the padding some phone cameras write still decodes', async () => {
  const jpeg = withExtraneousBytesBeforeMarker(await encodeAs(await quadrantCard(WIDTH, HEIGHT), 'jpeg'));
  assertUprightCard((await ingestImage(jpeg, DEFAULTS)).frame);
});

test('a HEIC compressed with HEVC is UNSUPPORTED_FORMAT, saying why', async () => {
  const error = await rejects(heicContainer(4032, 3024), 'UNSUPPORTED_FORMAT');
  assert.match(error.message, /HEVC/);
  assert.match(error.message, /JPEG/);
});

test('a PNG declaring 30000 x 30000 pixels is refused from its header, without memory jumping', async () => {
  await ingestImage(await quadrantCard(WIDTH, HEIGHT), DEFAULTS);
  const bomb = pngDeclaring(30000, 30000);
  assert.ok(bomb.length < 100);
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 1);
  try {
    const error = await rejects(bomb, 'IMAGE_TOO_LARGE');
    assert.match(error.message, /30000 x 30000/);
    assert.match(error.message, /40,000,000/);
    assert.match(error.message, /ingest\.maxPixels/);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  assert.ok(peak - before < 50 * 1024 * 1024, `RSS grew by ${((peak - before) / 1048576).toFixed(1)} MB`);
});

test('sha256 is of the bytes; the perceptual hash survives re-encoding and resizing, not another page', async () => {
  const page = await renderDocument({ lines: randomLines(1, 6) });
  const original = await ingestImage(page, DEFAULTS);
  assert.equal(original.sha256, createHash('sha256').update(page).digest('hex'));
  assert.match(original.phash, /^[0-9a-f]{16}$/);

  const recompressed = await asJpeg(page, 60);
  const { width = 0 } = await sharp(page).metadata();
  const smaller = await sharp(page).resize(Math.round(width * 0.9)).png().toBuffer();
  const other = await renderDocument({ lines: randomLines(2, 7) });

  const copy = await ingestImage(recompressed, DEFAULTS);
  assert.notEqual(copy.sha256, original.sha256);
  assert.ok(hammingDistance(original.phash, copy.phash) <= 6, `JPEG q=60: ${hammingDistance(original.phash, copy.phash)}`);
  const resized = await ingestImage(smaller, DEFAULTS);
  assert.ok(hammingDistance(original.phash, resized.phash) <= 6, `resized: ${hammingDistance(original.phash, resized.phash)}`);
  const different = await ingestImage(other, DEFAULTS);
  assert.ok(hammingDistance(original.phash, different.phash) >= 16, `other page: ${hammingDistance(original.phash, different.phash)}`);
});

test('perceptualHash works on tiny and float frames; hammingDistance counts differing bits', () => {
  const gradient = (width: number, height: number) => {
    const data = new Float32Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = ((x * 7 + y * 3) % 256) as number;
    return { width, height, data };
  };
  assert.match(perceptualHash(gradient(1, 1)), /^[0-9a-f]{16}$/);
  assert.match(perceptualHash(gradient(5, 3)), /^[0-9a-f]{16}$/);
  const float = gradient(100, 80);
  const bytes = { ...float, data: Uint8Array.from(float.data) };
  assert.equal(perceptualHash(float), perceptualHash(bytes));

  assert.equal(hammingDistance('0000000000000000', 'ffffffffffffffff'), 64);
  assert.equal(hammingDistance('0f00000000000001', '0000000000000000'), 5);
  assert.equal(hammingDistance('ABCDEF0123456789', 'abcdef0123456789'), 0);
  assert.throws(() => hammingDistance('00', '000'), (error) => isVisionopsError(error) && error.code === 'INVALID_REQUEST');
  assert.throws(() => hammingDistance('zz', '00'), (error) => isVisionopsError(error) && error.code === 'INVALID_REQUEST');
  assert.throws(() => perceptualHash({ width: 0, height: 0, data: new Uint8Array(0) }), (error) => isVisionopsError(error));
});
