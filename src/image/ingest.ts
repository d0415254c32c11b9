import { createHash } from 'node:crypto';
import type { Metadata } from 'sharp';
import { VisionopsError } from '../core/errors.js';
import { toGray, type Frame, type GrayFrame } from '../core/frame.js';
import { perceptualHash } from '../core/hash/perceptual.js';
import { decodeAdmission } from './admission.js';
import { declaredExtents } from './bmff.js';
import type { IngestConfig } from './config.js';
import { assertPixelDataPresent } from './data-floor.js';
import { decodeUpright, readHeader } from './decode.js';
import { readExif } from './exif.js';
import { assertBodyWithinLimits, assertHeaderWithinLimits, assertSidesWithinLimit } from './limits.js';
import { sniffFormat } from './sniff.js';
import { FORMAT_NAMES, IMAGE_FORMATS, type ImageFormat, type IngestedImage } from './types.js';

/**
 * Turns uploaded bytes into an upright RGB frame with its metadata and hashes. Every refusal
 * (size, format, pixels, frames, data too small for the pixels) happens before the one decode, so
 * a hostile file costs a header read at most; the decode waits for room in the process's budget of
 * pixels in flight (`ingest.inflightPixels`), and is refused OVERLOADED when none comes in time.
 * `luma` computes the luma the hash and the gate share (the gate's kernels pass their own).
 */
export async function ingestImage(
  bytes: Uint8Array,
  config: IngestConfig,
  source: Record<string, unknown> = {},
  luma: (frame: Frame) => GrayFrame = toGray,
): Promise<IngestedImage> {
  assertBodyWithinLimits(bytes, config);
  const format = sniffFormat(bytes);
  if (!format) {
    throw new VisionopsError(
      'UNSUPPORTED_FORMAT',
      `The file is not an image in an accepted format (${IMAGE_FORMATS.map((f) => FORMAT_NAMES[f]).join(', ')}), ` +
        'judged from its contents, not its name or type: convert it to one of these, JPEG or PNG for instance.',
      { accepted: [...IMAGE_FORMATS] },
    );
  }
  if (format === 'avif' || format === 'heif') {
    for (const { width, height } of declaredExtents(bytes)) assertSidesWithinLimit(width, height);
  }
  const header = await readHeader(bytes, format);
  assertHeaderWithinLimits(header, config);
  assertPixelDataPresent(bytes, format, header.width, header.height);
  const release = await decodeAdmission.admit(header.width * header.height, { budget: config.inflightPixels, waitMs: config.inflightWaitMs });
  try {
    const frame = await decodeUpright(bytes, format, config.maxPixels);
    return describe(bytes, format, header, frame, config, source, luma(frame));
  } finally {
    release();
  }
}

function describe(
  bytes: Uint8Array,
  format: ImageFormat,
  header: Metadata,
  frame: Frame,
  config: IngestConfig,
  source: Record<string, unknown>,
  luma: GrayFrame,
): IngestedImage {
  return {
    frame,
    format,
    bytes: bytes.length,
    width: frame.width,
    height: frame.height,
    exifOrientation: header.orientation !== undefined && header.orientation >= 1 && header.orientation <= 8 ? header.orientation : 1,
    metadata: {
      exif: readExif(header.exif, config.keepGps),
      hasIcc: header.hasProfile,
      density: header.density ?? null,
      source,
    },
    sha256: createHash('sha256').update(bytes).digest('hex'),
    phash: perceptualHash(luma),
    luma,
  };
}
