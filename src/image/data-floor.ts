import { VisionopsError } from '../core/errors.js';
import { FORMAT_NAMES, type ImageFormat } from './types.js';

/** What a decode must make of warnings, given how much data the file holds for its pixels. */
export type DecodeStrictness = 'normal' | 'strict';

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
 * An LZW code stands for at most one dictionary entry, which is shorter than the 4096 entries a
 * GIF dictionary holds, and takes at least three bits (minimum code size 2, plus one).
 * A flat white 6000 x 6000 GIF from libvips (cgif) is 1410 pixels per byte.
 */
const GIF_PIXELS_PER_CODE = 4096;
/**
 * An uncompressed TIFF holds at least one bit per pixel; compressed ones can hold far less
 * (a flat page with deflate, 298 pixels per byte at 6000 x 6000), so below this a TIFF is decoded
 * strictly rather than refused: libtiff reports missing strips only as warnings.
 */
const TIFF_PIXELS_PER_BYTE = 8;

/**
 * Refuses, before any pixel is decoded, a file whose format proves it cannot hold the pixels its
 * header declares (a 289-byte JPEG declaring 6000 x 6000: the decoder would fill 36 million
 * pixels with grey and answer). Where the format allows tiny files for many pixels (a flat PNG,
 * WebP or AVIF), nothing is refused here: those decoders fail on missing data by themselves,
 * and a TIFF this small is decoded with every warning an error.
 */
export function checkPixelData(bytes: Uint8Array, format: ImageFormat, width: number, height: number): DecodeStrictness {
  if (format === 'jpeg') assertJpegData(bytes, width, height);
  if (format === 'gif') assertGifData(bytes);
  if (format === 'tiff' && bytes.length * TIFF_PIXELS_PER_BYTE < width * height) return 'strict';
  return 'normal';
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
  const frame = firstGifFrame(bytes);
  if (!frame) return;
  const codeBits = Math.min(frame.minCodeSize, 11) + 1;
  const needed = Math.ceil((Math.ceil((frame.width * frame.height) / GIF_PIXELS_PER_CODE) * Math.max(codeBits, 3)) / 8);
  if (frame.dataBytes < needed) throw missingData('gif', frame.width, frame.height, frame.dataBytes, needed);
}

interface GifFrame {
  width: number;
  height: number;
  minCodeSize: number;
  /** LZW data, summed over the frame's sub-blocks. */
  dataBytes: number;
}

/** The first image descriptor and the size of its LZW data; null when the file ends before one. */
function firstGifFrame(bytes: Uint8Array): GifFrame | null {
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  if (bytes.length < 13) return null;
  let at = 13 + colourTableBytes(bytes[10]);
  while (at < bytes.length) {
    const introducer = bytes[at];
    if (introducer === 0x21) {
      at = afterSubBlocks(bytes, at + 2).end;
    } else if (introducer === 0x2c) {
      if (at + 11 > bytes.length) return null;
      const width = u16(at + 5);
      const height = u16(at + 7);
      const dataStart = at + 10 + colourTableBytes(bytes[at + 9]);
      if (dataStart >= bytes.length) return null;
      return { width, height, minCodeSize: bytes[dataStart], dataBytes: afterSubBlocks(bytes, dataStart + 1).dataBytes };
    } else {
      return null;
    }
  }
  return null;
}

function colourTableBytes(packed: number): number {
  return packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0;
}

/** GIF data comes in sub-blocks, each a length byte and that many bytes, ended by a zero length. */
function afterSubBlocks(bytes: Uint8Array, from: number): { end: number; dataBytes: number } {
  let at = from;
  let dataBytes = 0;
  while (at < bytes.length && bytes[at] !== 0) {
    const length = bytes[at];
    dataBytes += Math.min(length, bytes.length - at - 1);
    at += 1 + length;
  }
  return { end: at + 1, dataBytes };
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
