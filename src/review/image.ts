import sharp from 'sharp';
import type { Frame } from '../core/frame.js';
import type { ModelOutput } from '../core/records/review.js';

const WHITE = { r: 255, g: 255, b: 255 };

function upright(bytes: Uint8Array, rotation: ModelOutput['rotation']) {
  // The boxes are in the page as the pipeline read it: EXIF orientation applied, then its own turn.
  return sharp(bytes, { pages: 1 }).autoOrient().rotate(rotation).flatten({ background: WHITE }).toColourspace('srgb');
}

/** The kept image turned as the model read it, as JPEG, so the task's boxes fall on its text. */
export async function uprightJpeg(bytes: Uint8Array, rotation: ModelOutput['rotation']): Promise<Buffer> {
  return upright(bytes, rotation).jpeg({ quality: 90 }).toBuffer();
}

/** The same page as RGB pixels, to cut line crops from. */
export async function uprightFrame(bytes: Uint8Array, rotation: ModelOutput['rotation']): Promise<Frame> {
  const { data, info } = await upright(bytes, rotation).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
