import { createHash } from 'node:crypto';
import type { Metadata } from 'sharp';
import { VisionopsError } from '../core/errors.js';
import { toGray, type Frame, type GrayFrame } from '../core/frame.js';
import type { Region } from '../core/quality/luma.js';
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
 * How ingest decodes: `full` for the models (and every path that keeps the image), `reduced` for
 * the gate alone: a large enough JPEG then decodes at a third of its size (see `reducedSize`).
 */
export type DecodeSize = 'full' | 'reduced';

/**
 * Turns uploaded bytes into an upright RGB frame with its metadata and hashes. Every refusal
 * (size, format, pixels, frames, data too small for the pixels) happens before the one decode, so
 * a hostile file costs a header read at most; the decode waits for room in the process's budget of
 * pixels in flight (`ingest.inflightPixels`), and is refused OVERLOADED when none comes in time.
 * `luma` computes the luma the hash and the gate share (the gate's kernels pass their own).
 * `reduceTo`, for the gate alone: a JPEG whose reduced decode keeps a long side of at least
 * `reduceTo.longSide` (the gate's overview) decodes reduced (`reducedSize`).
 */
export async function ingestImage(
  bytes: Uint8Array,
  config: IngestConfig,
  source: Record<string, unknown> = {},
  luma: (frame: Frame) => GrayFrame = toGray,
  reduceTo: { longSide: number } | null = null,
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
  const upright = uprightSize(header);
  const reduced = reduceTo === null ? null : reducedSize(format, upright, reduceTo.longSide);
  const release = await decodeAdmission.admit(header.width * header.height, { budget: config.inflightPixels, waitMs: config.inflightWaitMs });
  try {
    const frame = await decodeUpright(bytes, format, config.maxPixels, reduced === null ? undefined : { size: reduced });
    return describe(bytes, format, header, frame, reduced === null ? frame : upright, config, source, luma(frame));
  } finally {
    release();
  }
}

/**
 * sharp decodes a JPEG at half size in its DCT (shrink-on-load) only when asked for a reduction of
 * 3 or more (it keeps a whole factor clear of libjpeg's rounding), then reduces the rest: a third
 * is the least reduction that makes the decode cheaper.
 */
const REDUCTION = 3;

/**
 * The size the gate-only path decodes an image at, upright: a third, for a JPEG whose third still
 * holds the gate's overview (`minLongSide`, so the overview keeps its resolution: 1080p does not
 * qualify, see docs/performance.md); null to decode it whole.
 */
export function reducedSize(format: ImageFormat, upright: { width: number; height: number }, minLongSide: number): { width: number; height: number } | null {
  if (format !== 'jpeg' || Math.max(upright.width, upright.height) / REDUCTION < minLongSide) return null;
  return { width: Math.max(1, Math.floor(upright.width / REDUCTION)), height: Math.max(1, Math.floor(upright.height / REDUCTION)) };
}

/** The image's size once upright: EXIF orientations 5 to 8 turn it a quarter. */
function uprightSize(header: Metadata): { width: number; height: number } {
  const width = header.width ?? 0;
  const height = header.height ?? 0;
  return header.orientation !== undefined && header.orientation >= 5 && header.orientation <= 8 ? { width: height, height: width } : { width, height };
}

/**
 * The full-resolution luma of `region` of an image ingested reduced, for the gate's tiles (always
 * read at full resolution); decoded under the same budget of pixels in flight.
 */
export async function regionLuma(bytes: Uint8Array, image: IngestedImage, region: Region, config: IngestConfig, luma: (frame: Frame) => GrayFrame = toGray): Promise<GrayFrame> {
  const release = await decodeAdmission.admit(region.width * region.height, { budget: config.inflightPixels, waitMs: config.inflightWaitMs });
  try {
    return luma(await decodeUpright(bytes, image.format, config.maxPixels, { region }));
  } finally {
    release();
  }
}

/** `size` is the image's once upright: the frame's own unless it was decoded reduced. */
function describe(
  bytes: Uint8Array,
  format: ImageFormat,
  header: Metadata,
  frame: Frame,
  size: { width: number; height: number },
  config: IngestConfig,
  source: Record<string, unknown>,
  luma: GrayFrame,
): IngestedImage {
  const { width, height } = size;
  return {
    frame,
    format,
    bytes: bytes.length,
    width,
    height,
    reduced: frame.width !== width || frame.height !== height,
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
