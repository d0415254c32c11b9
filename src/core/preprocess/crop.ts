import type { Frame } from '../frame.js';
import { unitSquareToQuad, type Point, type Quad } from '../postprocess/geometry.js';

function distance(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/** np.rot90: a quarter turn counter-clockwise, so the top row becomes the left column. */
function rotateCounterClockwise(frame: Frame): Frame {
  const { width, height, channels, data } = frame;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < height; x++) {
      const from = (x * width + (width - 1 - y)) * channels;
      const to = (y * height + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = data[from + c];
    }
  }
  return { width: height, height: width, channels, data: out };
}

/**
 * The quad's content straightened into an upright rectangle, PaddleOCR's `get_rotate_crop_image`:
 * width = max(|tl-tr|, |bl-br|) and height = max(|tl-bl|, |tr-br|), truncated to whole pixels (at
 * least 1); a perspective warp sends tl, tr, br, bl to (0, 0), (width, 0), (width, height),
 * (0, height), sampling the source bilinearly with its edge pixels repeated beyond the border
 * (Paddle samples bicubically; both feed a recogniser that resizes the crop again); a crop at least
 * 1.5 times taller than wide is a vertical line and is turned a quarter counter-clockwise, as
 * np.rot90. The output has the input's channels.
 */
export function cropQuad(frame: Frame, quad: Quad): Frame {
  const crop = warpQuad(frame, quad);
  return crop.height / crop.width >= 1.5 ? rotateCounterClockwise(crop) : crop;
}

/** The quad's content as an upright rectangle, as `cropQuad` cuts it but never turned. */
export function warpQuad(frame: Frame, quad: Quad): Frame {
  const [topLeft, topRight, bottomRight, bottomLeft] = quad;
  const width = Math.max(1, Math.trunc(Math.max(distance(topLeft, topRight), distance(bottomLeft, bottomRight))));
  const height = Math.max(1, Math.trunc(Math.max(distance(topLeft, bottomLeft), distance(topRight, bottomRight))));
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = unitSquareToQuad(quad);
  const { width: sourceWidth, height: sourceHeight, channels, data } = frame;
  const maxX = sourceWidth - 1;
  const maxY = sourceHeight - 1;
  const out = new Uint8Array(width * height * channels);

  for (let y = 0, o = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++, o += channels) {
      const u = x / width;
      const w = m6 * u + m7 * v + m8;
      const sx = (m0 * u + m1 * v + m2) / w;
      const sy = (m3 * u + m4 * v + m5) / w;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const left = (x0 < 0 ? 0 : x0 > maxX ? maxX : x0) * channels;
      const right = (x0 + 1 < 0 ? 0 : x0 + 1 > maxX ? maxX : x0 + 1) * channels;
      const top = (y0 < 0 ? 0 : y0 > maxY ? maxY : y0) * sourceWidth * channels;
      const bottom = (y0 + 1 < 0 ? 0 : y0 + 1 > maxY ? maxY : y0 + 1) * sourceWidth * channels;
      for (let c = 0; c < channels; c++) {
        const upper = data[top + left + c] + (data[top + right + c] - data[top + left + c]) * fx;
        const lower = data[bottom + left + c] + (data[bottom + right + c] - data[bottom + left + c]) * fx;
        out[o + c] = Math.round(upper + (lower - upper) * fy);
      }
    }
  }

  return { width, height, channels, data: out };
}

/**
 * Frames of one height set left to right into one (a line cut piece by piece); a frame a pixel
 * or two shorter than the tallest has its bottom row repeated. All have the first's channels.
 */
export function sideBySide(frames: readonly Frame[]): Frame {
  const height = Math.max(...frames.map((f) => f.height));
  const width = frames.reduce((sum, f) => sum + f.width, 0);
  const { channels } = frames[0];
  const out = new Uint8Array(width * height * channels);
  let left = 0;
  for (const frame of frames) {
    const rowBytes = frame.width * channels;
    for (let y = 0; y < height; y++) {
      const from = Math.min(y, frame.height - 1) * rowBytes;
      out.set(frame.data.subarray(from, from + rowBytes), (y * width + left) * channels);
    }
    left += frame.width;
  }
  return { width, height, channels, data: out };
}
