import type { Frame } from '../frame.js';
import type { Point, Quad } from '../postprocess/geometry.js';

export type QuarterTurn = 0 | 90 | 180 | 270;

/**
 * The frame turned clockwise by a multiple of 90 degrees (a page lying on its side, or upside
 * down, made upright). Exact: pixels move, none is interpolated. Keeps the frame's channels.
 */
export function rotateFrame(frame: Frame, degrees: QuarterTurn): Frame {
  const { width, height, channels, data } = frame;
  if (degrees === 0) return frame;
  const turned = degrees === 180 ? { width, height } : { width: height, height: width };
  const out = new Uint8Array(data.length);
  for (let y = 0, o = 0; y < turned.height; y++) {
    for (let x = 0; x < turned.width; x++, o += channels) {
      const [sx, sy] = sourcePixel(x, y, degrees, width, height);
      const from = (sy * width + sx) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = data[from + c];
    }
  }
  return { width: turned.width, height: turned.height, channels, data: out };
}

/** Which source pixel lands at (x, y) of the turned frame. */
function sourcePixel(x: number, y: number, degrees: QuarterTurn, width: number, height: number): Point {
  switch (degrees) {
    case 0:
      return [x, y];
    case 90:
      return [y, height - 1 - x];
    case 180:
      return [width - 1 - x, height - 1 - y];
    case 270:
      return [width - 1 - y, x];
  }
}

/** Where a point of a width x height frame lands once the frame is turned clockwise by `degrees`. */
export function rotatePoint(point: Point, degrees: QuarterTurn, width: number, height: number): Point {
  const [x, y] = point;
  switch (degrees) {
    case 0:
      return [x, y];
    case 90:
      return [height - 1 - y, x];
    case 180:
      return [width - 1 - x, height - 1 - y];
    case 270:
      return [y, width - 1 - x];
  }
}

/**
 * A quad carried along when its frame turns clockwise by `degrees`, its corners renamed so the
 * first is again the top-left of the turned text (each quarter turn moves the names one corner on).
 */
export function rotateQuad(quad: Quad, degrees: QuarterTurn, width: number, height: number): Quad {
  const moved = quad.map((p) => rotatePoint(p, degrees, width, height));
  const shift = degrees / 90;
  return [0, 1, 2, 3].map((i) => moved[(i - shift + 4) % 4]) as Quad;
}

/**
 * The frame turned clockwise by any angle about its centre, on a canvas grown to hold all of it
 * (white where no pixel was), sampled bilinearly; `toSource` carries a point of the turned frame
 * back to the frame it came from.
 */
export function rotateFrameBy(frame: Frame, degrees: number): { frame: Frame; toSource: (point: Point) => Point } {
  const { width, height, channels, data } = frame;
  const radians = (degrees * Math.PI) / 180;
  const [cos, sin] = [Math.cos(radians), Math.sin(radians)];
  // Less a hair: cos(90 degrees) is 6e-17, not 0, and a quarter turn must not grow the canvas by a pixel.
  const outWidth = Math.ceil(Math.abs(width * cos) + Math.abs(height * sin) - 1e-9);
  const outHeight = Math.ceil(Math.abs(width * sin) + Math.abs(height * cos) - 1e-9);
  const [cx, cy, ox, oy] = [(width - 1) / 2, (height - 1) / 2, (outWidth - 1) / 2, (outHeight - 1) / 2];
  const toSource = ([x, y]: Point): Point => [cx + (x - ox) * cos + (y - oy) * sin, cy - (x - ox) * sin + (y - oy) * cos];
  const out = new Uint8Array(outWidth * outHeight * channels).fill(255);
  for (let y = 0, o = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++, o += channels) {
      const sx = cx + (x - ox) * cos + (y - oy) * sin;
      const sy = cy - (x - ox) * sin + (y - oy) * cos;
      if (sx < 0 || sy < 0 || sx > width - 1 || sy > height - 1) continue;
      const x0 = Math.max(0, Math.min(Math.floor(sx), width - 2));
      const y0 = Math.max(0, Math.min(Math.floor(sy), height - 2));
      const [fx, fy] = [sx - x0, sy - y0];
      const i = (y0 * width + x0) * channels;
      const below = i + width * channels;
      for (let c = 0; c < channels; c++) {
        const top = data[i + c] + (data[i + channels + c] - data[i + c]) * fx;
        const bottom = data[below + c] + (data[below + channels + c] - data[below + c]) * fx;
        out[o + c] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return { frame: { width: outWidth, height: outHeight, channels, data: out }, toSource };
}
