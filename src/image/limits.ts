import type { Metadata } from 'sharp';
import { VisionopsError } from '../core/errors.js';
import type { IngestConfig } from './config.js';

/**
 * The longest side accepted, whatever the area: JPEG's own limit, and far beyond any camera or
 * scanner. libvips works in strips the width of the image, so a header declaring 16,777,216 x 2
 * (under the pixel limit) took 3.7 s to fail in libheif; at 65,535 wide such a failure is
 * milliseconds.
 */
const MAX_SIDE = 65_535;

/** Refuses an empty or oversized body before anything parses it. */
export function assertBodyWithinLimits(bytes: Uint8Array, config: IngestConfig): void {
  if (bytes.length === 0) {
    throw new VisionopsError('EMPTY_BODY', 'The image is empty (0 bytes): send the contents of the image file.');
  }
  if (bytes.length > config.maxBytes) {
    throw new VisionopsError(
      'IMAGE_TOO_LARGE',
      `The file is ${count(bytes.length)} bytes, over the limit of ${count(config.maxBytes)}: ` +
        'send a smaller or more compressed file, or raise `ingest.maxBytes`.',
      { bytes: bytes.length, maxBytes: config.maxBytes },
    );
  }
}

/**
 * Refuses what the header announces beyond the limits, before any pixel is decoded: a few bytes
 * of PNG can declare a 30000 x 30000 image that would take gigabytes to hold.
 */
export function assertHeaderWithinLimits(header: Pick<Metadata, 'width' | 'height' | 'pages'>, config: IngestConfig): void {
  assertSidesWithinLimit(header.width, header.height);
  const pixels = header.width * header.height;
  if (pixels > config.maxPixels) {
    throw new VisionopsError(
      'IMAGE_TOO_LARGE',
      `The image is ${header.width} x ${header.height} pixels (${megapixels(pixels)}), over the limit of ` +
        `${count(config.maxPixels)} pixels (${megapixels(config.maxPixels)}): resize it before sending, or raise \`ingest.maxPixels\`.`,
      { width: header.width, height: header.height, pixels, maxPixels: config.maxPixels },
    );
  }
  const frames = header.pages ?? 1;
  if (frames > config.maxFrames) {
    throw new VisionopsError(
      'TOO_MANY_FRAMES',
      `The image has ${count(frames)} frames or pages, over the limit of ${count(config.maxFrames)}: ` +
        'send a single frame, or raise `ingest.maxFrames`.',
      { frames, maxFrames: config.maxFrames },
    );
  }
}

/** Also for sizes read before libvips sees the file (see bmff.ts). */
export function assertSidesWithinLimit(width: number, height: number): void {
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw new VisionopsError(
      'IMAGE_TOO_LARGE',
      `The image is ${width} x ${height} pixels, over ${count(MAX_SIDE)} on a side: ` +
        'no camera or scanner makes such a strip; crop or resize it before sending.',
      { width, height, maxSide: MAX_SIDE },
    );
  }
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

export function megapixels(pixels: number): string {
  return `${(pixels / 1e6).toFixed(1)} MP`;
}
