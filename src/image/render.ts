import sharp from 'sharp';
import { VisionopsError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import type { QuarterTurn } from '../core/preprocess/rotate.js';
import type { IngestConfig } from './config.js';
import { DECODE_OPTIONS, WHITE } from './decode.js';

/** What a kept image is drawn again for: a person reviewing it, a dataset, the dashboard's thumbnails. */
export interface RenderOptions {
  /** Clockwise turn after EXIF orientation: the page as the pipeline read it, so its boxes fall on its text. */
  rotation?: QuarterTurn;
  /** Fit inside a square of this side (thumbnails); the full size when absent. */
  within?: number;
  quality: number;
}

/**
 * Kept images are decoded again with ingest's limits, as ingest decoded them: a file that passed
 * ingest passes here, and nothing kept can make this decode more than ingest allowed.
 */
function upright(bytes: Uint8Array, limits: Pick<IngestConfig, 'maxPixels'>, rotation: QuarterTurn) {
  return sharp(bytes, { ...DECODE_OPTIONS, limitInputPixels: limits.maxPixels }).autoOrient().rotate(rotation).flatten({ background: WHITE }).toColourspace('srgb');
}

/** A kept image upright (and turned by `rotation`) as JPEG. */
export async function renderJpeg(bytes: Uint8Array, limits: Pick<IngestConfig, 'maxPixels'>, { rotation = 0, within, quality }: RenderOptions): Promise<Buffer> {
  const image = upright(bytes, limits, rotation);
  if (within !== undefined) image.resize(within, within, { fit: 'inside' });
  return rendered(image.jpeg({ quality }).toBuffer());
}

/** A kept image upright as RGB pixels. */
export async function renderFrame(bytes: Uint8Array, limits: Pick<IngestConfig, 'maxPixels'>): Promise<Frame> {
  const { data, info } = await rendered(upright(bytes, limits, 0).raw().toBuffer({ resolveWithObject: true }));
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** RGB pixels (a line crop) as PNG. */
export function encodePng(frame: Frame): Promise<Buffer> {
  return sharp(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), { raw: { width: frame.width, height: frame.height, channels: frame.channels } })
    .png()
    .toBuffer();
}

async function rendered<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new VisionopsError('CORRUPT_IMAGE', `A kept image could not be decoded again (${(error as Error).message}): its blob is damaged; restore the data directory's blobs/ folder.`, undefined, {
      cause: error,
    });
  }
}
