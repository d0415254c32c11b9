import { VisionopsError } from '../errors.js';
import type { Frame } from '../frame.js';

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The part of the frame inside `region` (pixels), clipped to the frame: a fixed camera's region of
 * interest. Throws INVALID_REQUEST when the region misses the frame altogether.
 */
export function cropRegion(frame: Frame, region: Region): Frame {
  const left = Math.min(region.left, frame.width);
  const top = Math.min(region.top, frame.height);
  const width = Math.min(region.width, frame.width - left);
  const height = Math.min(region.height, frame.height - top);
  if (width <= 0 || height <= 0) {
    throw new VisionopsError(
      'INVALID_REQUEST',
      `The configured region of interest (${region.width} x ${region.height} at ${region.left}, ${region.top}) lies outside this ${frame.width} x ${frame.height} image: send images from the camera the region was set for, or fix pipeline.roi.`,
      { region, width: frame.width, height: frame.height },
    );
  }
  const { channels } = frame;
  const out = new Uint8Array(width * height * channels);
  const rowBytes = width * channels;
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * frame.width + left) * channels;
    out.set(frame.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { width, height, channels, data: out };
}
