import { createHash } from 'node:crypto';
import { VisionopsError } from '../core/errors.js';
import { toGray } from '../core/frame.js';
import { perceptualHash } from '../core/hash/perceptual.js';
import type { IngestConfig } from './config.js';
import { decodeUpright, readHeader } from './decode.js';
import { readExif } from './exif.js';
import { assertBodyWithinLimits, assertHeaderWithinLimits } from './limits.js';
import { sniffFormat } from './sniff.js';
import { FORMAT_NAMES, IMAGE_FORMATS, type IngestedImage } from './types.js';

/**
 * Turns uploaded bytes into an upright RGB frame with its metadata and hashes. Every refusal
 * (size, format, pixels, frames) happens before the one decode, so a hostile file costs a header
 * read at most.
 */
export async function ingestImage(
  bytes: Uint8Array,
  config: IngestConfig,
  source: Record<string, unknown> = {},
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
  const header = await readHeader(bytes, format);
  assertHeaderWithinLimits(header, config);
  const frame = await decodeUpright(bytes, format, config.maxPixels);
  const luma = toGray(frame);
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
