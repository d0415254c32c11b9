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
