import sharp, { type Metadata } from 'sharp';
import { VisionopsError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import { FORMAT_NAMES, IMAGE_FORMATS, type ImageFormat } from './types.js';

/**
 * Stricter than 'truncated' (it also refuses e.g. TIFF strips the decoder errors on), yet not
 * sharp's default 'warning': phones write JPEGs that libjpeg warns about but decodes whole (Pixel:
 * "N extraneous bytes before marker", Samsung: "Invalid SOS parameters for sequential JPEG"), and
 * 'warning' refuses them; replicas of both decode here. The price: JPEG scan data replaced by
 * noise only draws warnings, so such a file decodes to noise and is left to the quality gate.
 */
const FAIL_ON = 'error';
/** How every decode of pixels opens an image: the first frame only, failing on errors. */
export const DECODE_OPTIONS = { failOn: FAIL_ON, pages: 1 } as const;
export const WHITE = { r: 255, g: 255, b: 255 };
/** libheif's words when the codec inside a HEIF (HEVC, for HEIC) has no decoder in this build. */
const MISSING_CODEC = /compression format has not been built in: (\w+)/i;
/** sharp's words when no loader (or only a blocked one) claims the bytes. */
const NO_LOADER = /unsupported image format/i;
/** The libvips loaders of the accepted formats (HEIF covers AVIF), from memory: every other one is blocked. */
const ACCEPTED_LOADERS = [
  'VipsForeignLoadJpegBuffer',
  'VipsForeignLoadPngBuffer',
  'VipsForeignLoadWebpBuffer',
  'VipsForeignLoadTiffBuffer',
  'VipsForeignLoadNsgifBuffer',
  'VipsForeignLoadHeifBuffer',
];

/**
 * Blocks, process-wide, every libvips loader but those of the accepted formats, so no bytes reach
 * the SVG, PDF, FITS, Matrix or other parsers even if sniffing were fooled. Called once at start
 * by the CLI (and so the server); not on import, since the tests render their fixtures from SVG.
 */
export function blockUnacceptedLoaders(): void {
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: ACCEPTED_LOADERS });
}

/** The container's header and tags; libvips decodes no pixel data for it. */
export async function readHeader(bytes: Uint8Array, format: ImageFormat): Promise<Metadata> {
  try {
    // No pixel limit on this read: it allocates no pixels, and the caller explains a refusal better than sharp does.
    return await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw NO_LOADER.test(reasonOf(error)) ? unsupported(format, error) : corruptImage(format, error);
  }
}

/**
 * Part of an upright image to decode: `size`, the whole reduced to it (libvips decodes a JPEG at
 * 1/2, 1/4 or 1/8 in its DCT when the reduction allows, shrink-on-load, and reduces the rest with a
 * linear kernel rather than sharp's default lanczos3, which sharpens the edges the gate measures);
 * or `region`, a rectangle at full resolution (libvips stops decoding below it).
 */
export type DecodeView = { size: { width: number; height: number } } | { region: { x: number; y: number; width: number; height: number } };

/** Decodes the first frame once: upright per EXIF, alpha flattened on white, sRGB, 8-bit RGB; all of it, or `view`. */
export async function decodeUpright(bytes: Uint8Array, format: ImageFormat, maxPixels: number, view?: DecodeView): Promise<Frame> {
  try {
    const upright = sharp(bytes, { ...DECODE_OPTIONS, limitInputPixels: maxPixels }).autoOrient();
    const viewed =
      view === undefined
        ? upright
        : 'size' in view
          ? upright.resize(view.size.width, view.size.height, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: true })
          : upright.extract({ left: view.region.x, top: view.region.y, width: view.region.width, height: view.region.height });
    const { data, info } = await viewed
      .flatten({ background: WHITE })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    const missingCodec = format === 'heif' ? MISSING_CODEC.exec(reasonOf(error)) : null;
    if (missingCodec) {
      const [, codec] = missingCodec;
      throw new VisionopsError(
        'UNSUPPORTED_FORMAT',
        `This HEIF image is compressed with ${codec}, which this server's image decoder cannot read: ` +
          'send it as JPEG, PNG or AVIF instead (on an iPhone: Settings > Camera > Formats > Most Compatible).',
        { format, codec, reason: reasonOf(error) },
        { cause: error },
      );
    }
    if (NO_LOADER.test(reasonOf(error))) throw unsupported(format, error);
    throw corruptImage(format, error);
  }
}

function unsupported(format: ImageFormat, error: unknown): VisionopsError {
  return new VisionopsError(
    'UNSUPPORTED_FORMAT',
    `The file starts like a ${FORMAT_NAMES[format]}, but no decoder of an accepted format recognises it: it is another format ` +
      `in disguise, or its header is damaged. Send it as ${IMAGE_FORMATS.map((f) => FORMAT_NAMES[f]).join(', ')}; JPEG or PNG for instance.`,
    { format, accepted: [...IMAGE_FORMATS], reason: reasonOf(error) },
    { cause: error },
  );
}

function corruptImage(format: ImageFormat, error: unknown): VisionopsError {
  return new VisionopsError(
    'CORRUPT_IMAGE',
    `The ${FORMAT_NAMES[format]} file could not be decoded: it is truncated or damaged. ` +
      'Send the original file again; if it opens elsewhere, re-save it as JPEG or PNG.',
    { format, reason: reasonOf(error) },
    { cause: error },
  );
}

/** libvips stacks every message of a failed load; the last one names the cause. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message.split('\n').filter((line) => line.trim() !== '');
  return lines[lines.length - 1] ?? message;
}

/**
 * libvips threads per decode (sharp.concurrency), process-wide; 0 restores sharp's default of one
 * per core. With images decoded while the models run, one each keeps the cores from being
 * oversubscribed (docs/performance.md).
 */
export function setDecodeThreads(threads: number): void {
  sharp.concurrency(threads);
}
