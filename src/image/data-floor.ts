import { VisionopsError } from '../core/errors.js';
import { firstFrameCoverage } from './gif-coverage.js';
import { FORMAT_NAMES, type ImageFormat } from './types.js';

/**
 * JPEG's Huffman codes are 1 to 16 bits long, and every 8 x 8 block of the full-resolution
 * component starts with one (its DC difference): no Huffman-coded JPEG holds fewer than one bit
 * per 64 pixels. Measured at 6000 x 6000 for a flat white page: mozjpeg quality 10 (4:2:0, six
 * blocks per 256 pixels) is 340 pixels per byte, libjpeg quality 10 is 170.
 */
const JPEG_PIXELS_PER_BYTE = 512;
/** SOF markers of the arithmetic-coded processes, which can code a flat block in under a bit. */
const ARITHMETIC_SOF = new Set([0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
/**
 * Under this share of the first frame's pixels coded, a GIF is refused: encoders write every
 * pixel, and what a truncated file keeps below half of its frame is not worth decoding.
 */
const GIF_MIN_FRAME_SHARE = 0.5;
/**
 * A first frame may sit inside a larger canvas (the decoder paints the rest with the
 * background), but not one 16 times its coded pixels: that canvas costs memory like a real
 * image and holds nothing (a fuzzed 360 x 204 frame on a 360 x 65,484 canvas: 2.6 s in the gate).
 */
const GIF_MIN_CANVAS_SHARE = 1 / 16;
/** TIFF tags naming where the pixel data is and how it is laid out. */
const TIFF_TAG = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  stripOffsets: 273,
  samplesPerPixel: 277,
  rowsPerStrip: 278,
  stripByteCounts: 279,
  planarConfiguration: 284,
  tileWidth: 322,
  tileLength: 323,
  tileOffsets: 324,
  tileByteCounts: 325,
  yCbCrSubSampling: 530,
} as const;
/**
 * The most each TIFF compression can shrink the uncompressed bytes: deflate's longest match costs
 * at least 2 bits for 258 bytes (1032:1), an LZW code (9 bits or more) stands for under 4096
 * bytes, PackBits takes 2 bytes for a run of 128. JPEG (old and new) is bounded per pixel, as in
 * a JPEG file. Others (CCITT fax, zstd, LZMA) can shrink a blank page to almost nothing.
 */
const TIFF_MAX_RATIO: Record<number, number> = { 1: 1, 5: 4096, 8: 1032, 32946: 1032, 32773: 64 };
const TIFF_JPEG = new Set([6, 7]);

/**
 * Refuses, before any pixel is decoded, a file whose structure proves it cannot hold the pixels
 * its header declares (a 289-byte JPEG declaring 6000 x 6000: libjpeg warns, fills 36 million
 * pixels with grey and answers). Only what the format makes certain is refused: a flat PNG, WebP
 * or AVIF can be tiny for many pixels, and those decoders fail on missing data by themselves
 * (measured: a 6000 x 6000 header over 64 x 64 of data fails in their loaders within milliseconds).
 */
export function assertPixelDataPresent(bytes: Uint8Array, format: ImageFormat, width: number, height: number): void {
  if (format === 'jpeg') assertJpegData(bytes, width, height);
  if (format === 'gif') assertGifData(bytes);
  if (format === 'tiff') assertTiffData(bytes);
}

function assertJpegData(bytes: Uint8Array, width: number, height: number): void {
  const layout = jpegLayout(bytes);
  if (!layout || ARITHMETIC_SOF.has(layout.frameMarker)) return;
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const needed = Math.ceil(blocks / 8);
  if (layout.scanBytes < needed) throw missingData('jpeg', width, height, layout.scanBytes, needed);
}

interface JpegLayout {
  frameMarker: number;
  /** From the first start-of-scan to the end-of-image marker (or the end of the file). */
  scanBytes: number;
}

/** Walks the marker segments up to the first scan; null when the file has no frame or scan header. */
function jpegLayout(bytes: Uint8Array): JpegLayout | null {
  let frameMarker: number | null = null;
  let at = 2;
  while (at + 4 <= bytes.length) {
    // libjpeg skips stray bytes before a marker (phones write some), and so does this walk.
    if (bytes[at] !== 0xff) {
      at++;
      continue;
    }
    const marker = bytes[at + 1];
    if (marker === 0xff || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === 0xd9) return null;
    if (marker === 0xda) {
      if (frameMarker === null) return null;
      return { frameMarker, scanBytes: endOfImage(bytes, at) - at };
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) frameMarker = marker;
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
  }
  return null;
}

/** Entropy-coded data escapes 0xFF as 0xFF00, so the first 0xFFD9 after a scan starts ends the image. */
function endOfImage(bytes: Uint8Array, from: number): number {
  for (let at = from; at + 1 < bytes.length; at++) {
    if (bytes[at] === 0xff && bytes[at + 1] === 0xd9) return at;
  }
  return bytes.length;
}

function assertGifData(bytes: Uint8Array): void {
  const frame = firstFrameCoverage(bytes);
  if (!frame) return;
  const framePixels = frame.width * frame.height;
  const canvasPixels = frame.canvasWidth * frame.canvasHeight;
  if (frame.codedPixels >= framePixels * GIF_MIN_FRAME_SHARE && frame.codedPixels >= canvasPixels * GIF_MIN_CANVAS_SHARE) return;
  const [width, height] = canvasPixels > framePixels ? [frame.canvasWidth, frame.canvasHeight] : [frame.width, frame.height];
  throw new VisionopsError(
    'CORRUPT_IMAGE',
    `The GIF file declares ${width} x ${height} pixels but its data codes ${frame.codedPixels.toLocaleString('en-US')} of them: ` +
      'it is truncated or its header is wrong. Send the original file again.',
    { format: 'gif', width, height, codedPixels: frame.codedPixels, reason: 'declared size exceeds the data' },
  );
}

/**
 * The first image's strips (or tiles) must cover it and lie inside the file, and uncompressed ones
 * must hold every byte of their rows: libtiff reports a missing or short strip only as a warning
 * and decodes the rest as black.
 */
function assertTiffData(bytes: Uint8Array): void {
  const ifd = readTiffIfd(bytes);
  if (!ifd) return;
  const first = (tag: number, fallback: number) => ifd.get(tag)?.[0] ?? fallback;
  const width = first(TIFF_TAG.width, 0);
  const height = first(TIFF_TAG.height, 0);
  if (width === 0 || height === 0) return;
  const samples = first(TIFF_TAG.samplesPerPixel, 1);
  const bits = first(TIFF_TAG.bitsPerSample, 1);
  const planes = first(TIFF_TAG.planarConfiguration, 1) === 2 ? samples : 1;
  const tiled = ifd.has(TIFF_TAG.tileOffsets);
  const offsets = ifd.get(tiled ? TIFF_TAG.tileOffsets : TIFF_TAG.stripOffsets);
  const counts = ifd.get(tiled ? TIFF_TAG.tileByteCounts : TIFF_TAG.stripByteCounts);
  // Old writers leave out the byte counts, and libtiff works them out: nothing to hold them to.
  if (!offsets || !counts) return;
  const tileWidth = tiled ? first(TIFF_TAG.tileWidth, 0) : width;
  const tileHeight = tiled ? first(TIFF_TAG.tileLength, 0) : Math.min(first(TIFF_TAG.rowsPerStrip, height), height);
  if (tileWidth === 0 || tileHeight === 0) return;
  const pieces = Math.ceil(width / tileWidth) * Math.ceil(height / tileHeight) * planes;
  const present = counts.reduce((sum, count, i) => sum + (i < offsets.length && offsets[i] + count <= bytes.length ? count : 0), 0);
  const rowBytes = Math.ceil((width * (samples / planes) * bits) / 8);
  const compression = first(TIFF_TAG.compression, 1);
  // Subsampled YCbCr packs fewer bytes a row than width x samples: its rows are not counted.
  const ratio = ifd.has(TIFF_TAG.yCbCrSubSampling) ? undefined : TIFF_MAX_RATIO[compression];
  const floor = TIFF_JPEG.has(compression)
    ? Math.ceil((width * height) / JPEG_PIXELS_PER_BYTE)
    : ratio === undefined
      ? 0
      : Math.ceil((rowBytes * height * planes) / ratio);
  // Every strip or tile takes a byte at least, whatever the compression.
  const needed = Math.max(floor, pieces);
  const outside = offsets.some((offset, i) => offset + (counts[i] ?? 0) > bytes.length);
  if (offsets.length < pieces || counts.length < pieces || outside || present < needed) {
    throw missingData('tiff', width, height, present, Math.max(needed, present + 1));
  }
}

/** IFD0's entries of integer types (BYTE, SHORT, LONG), each as its list of values. */
function readTiffIfd(bytes: Uint8Array): Map<number, number[]> | null {
  if (bytes.length < 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  // BigTIFF (version 43) lays its IFDs out with 8-byte fields; libtiff's own checks cover it.
  if (view.getUint16(2, little) !== 42) return null;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > bytes.length) return null;
  const entries = new Map<number, number[]>();
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count && ifd + 2 + (i + 1) * 12 <= bytes.length; i++) {
    const entry = ifd + 2 + i * 12;
    const tag = view.getUint16(entry, little);
    const type = view.getUint16(entry + 2, little);
    const size = type === 1 ? 1 : type === 3 ? 2 : type === 4 ? 4 : 0;
    if (size === 0) continue;
    const values = view.getUint32(entry + 4, little);
    const start = values * size <= 4 ? entry + 8 : view.getUint32(entry + 8, little);
    // A list reaching past the end of the file is cut there: the data cannot be where it points.
    const available = Math.min(values, Math.floor((bytes.length - start) / size));
    const list: number[] = [];
    for (let v = 0; v < available; v++) {
      const at = start + v * size;
      list.push(size === 1 ? view.getUint8(at) : size === 2 ? view.getUint16(at, little) : view.getUint32(at, little));
    }
    entries.set(tag, list);
  }
  return entries;
}

function missingData(format: ImageFormat, width: number, height: number, present: number, needed: number): VisionopsError {
  return new VisionopsError(
    'CORRUPT_IMAGE',
    `The ${FORMAT_NAMES[format]} file declares ${width} x ${height} pixels but holds ${present.toLocaleString('en-US')} bytes of ` +
      `image data, where any ${FORMAT_NAMES[format]} of that size needs at least ${needed.toLocaleString('en-US')}: ` +
      'it is truncated or its header is wrong. Send the original file again.',
    { format, width, height, dataBytes: present, minimumDataBytes: needed, reason: 'declared size exceeds the data' },
  );
}
