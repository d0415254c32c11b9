import { VisionopsError } from '../errors.js';

/**
 * Image coordinates: x to the right, y downwards, in pixels. The pipeline's `Point` and `Quad`
 * (src/pipeline/types.ts) have the same shape; they are declared here too because core imports
 * nothing from the layers above it.
 */
export type Point = [number, number];
/** Four corners: top-left, top-right, bottom-right, bottom-left (clockwise as seen on screen). */
export type Quad = [Point, Point, Point, Point];

/** A rectangle of any orientation, as OpenCV's `RotatedRect`. */
export interface RotatedRect {
  center: Point;
  /** The longer side; it runs along `angle`. */
  width: number;
  height: number;
  /**
   * Direction of the `width` side in degrees, in (-90, 90], positive turning from +x towards +y
   * (clockwise on screen). A square reports the direction in (-45, 45].
   */
  angle: number;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/**
 * Convex hull by Andrew's monotone chain, without collinear or repeated points. The vertices run
 * with a positive shoelace area: counter-clockwise with y up, clockwise on screen. Fewer than three
 * distinct points come back as they are (one point, or the two ends of a segment).
 */
export function convexHull(points: Point[]): Point[] {
  const sorted = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const unique: Point[] = [];
  for (const p of sorted) {
    const last = unique[unique.length - 1];
    if (last === undefined || last[0] !== p[0] || last[1] !== p[1]) unique.push(p);
  }
  if (unique.length < 3) return unique;

  const hull: Point[] = [];
  for (const p of unique) {
    while (hull.length >= 2 && cross(hull[hull.length - 2], hull[hull.length - 1], p) <= 0) hull.pop();
    hull.push(p);
  }
  const lowerLength = hull.length + 1;
  for (let i = unique.length - 2; i >= 0; i--) {
    const p = unique[i];
    while (hull.length >= lowerLength && cross(hull[hull.length - 2], hull[hull.length - 1], p) <= 0) hull.pop();
    hull.push(p);
  }
  hull.pop();
  return hull;
}

/** Builds the rect from one side's direction and the extents along it and across it. */
function rectFromFrame(ux: number, uy: number, alongMin: number, alongMax: number, acrossA: number, acrossB: number): RotatedRect {
  const nx = -uy;
  const ny = ux;
  const along = (alongMin + alongMax) / 2;
  const across = (acrossA + acrossB) / 2;
  const center: Point = [ux * along + nx * across, uy * along + ny * across];
  let width = alongMax - alongMin;
  let height = Math.abs(acrossB - acrossA);
  let angle = (Math.atan2(uy, ux) * 180) / Math.PI;
  if (height > width) {
    [width, height] = [height, width];
    angle += 90;
  }
  while (angle > 90) angle -= 180;
  while (angle <= -90) angle += 180;
  if (width === height) {
    if (angle > 45) angle -= 90;
    else if (angle <= -45) angle += 90;
  }
  return { center, width, height, angle };
}

/**
 * The rectangle of least area that holds every point (OpenCV's `minAreaRect`): rotating calipers
 * over the convex hull, since the best rectangle has a side on one of the hull's edges.
 */
export function minAreaRect(points: Point[]): RotatedRect {
  if (points.length === 0) {
    throw new VisionopsError('INTERNAL', 'minAreaRect needs at least one point; check the caller filters empty regions out.');
  }
  const hull = convexHull(points);
  const n = hull.length;
  if (n === 1) return { center: [hull[0][0], hull[0][1]], width: 0, height: 0, angle: 0 };
  if (n === 2) {
    const length = Math.hypot(hull[1][0] - hull[0][0], hull[1][1] - hull[0][1]);
    const ux = (hull[1][0] - hull[0][0]) / length;
    const uy = (hull[1][1] - hull[0][1]) / length;
    const start = ux * hull[0][0] + uy * hull[0][1];
    const across = -uy * hull[0][0] + ux * hull[0][1];
    return rectFromFrame(ux, uy, start, start + length, across, across);
  }

  const along = (i: number, ux: number, uy: number) => ux * hull[i][0] + uy * hull[i][1];
  const across = (i: number, ux: number, uy: number) => -uy * hull[i][0] + ux * hull[i][1];
  let best: RotatedRect | null = null;
  let bestArea = Infinity;
  let maxIndex = 0;
  let minIndex = 0;
  let farIndex = 0;
  for (let i = 0; i < n; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % n];
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const ux = (b[0] - a[0]) / length;
    const uy = (b[1] - a[1]) / length;
    const edgeAcross = across(i, ux, uy);
    const distance = (k: number) => Math.abs(across(k, ux, uy) - edgeAcross);
    if (i === 0) {
      for (let k = 1; k < n; k++) {
        if (along(k, ux, uy) > along(maxIndex, ux, uy)) maxIndex = k;
        if (along(k, ux, uy) < along(minIndex, ux, uy)) minIndex = k;
        if (distance(k) > distance(farIndex)) farIndex = k;
      }
    } else {
      // The calipers only turn one way round a convex polygon, so each extreme point moves forward.
      while (along((maxIndex + 1) % n, ux, uy) > along(maxIndex, ux, uy)) maxIndex = (maxIndex + 1) % n;
      while (along((minIndex + 1) % n, ux, uy) < along(minIndex, ux, uy)) minIndex = (minIndex + 1) % n;
      while (distance((farIndex + 1) % n) > distance(farIndex)) farIndex = (farIndex + 1) % n;
    }
    const alongMin = along(minIndex, ux, uy);
    const alongMax = along(maxIndex, ux, uy);
    const area = (alongMax - alongMin) * distance(farIndex);
    if (area < bestArea) {
      bestArea = area;
      best = rectFromFrame(ux, uy, alongMin, alongMax, edgeAcross, across(farIndex, ux, uy));
    }
  }
  return best as RotatedRect;
}

/**
 * Unit vector at `degrees`; exact at multiples of 90 so an upright rect keeps whole-pixel corners
 * (cos(pi / 2) is 6e-17 in floating point, enough to truncate 40 to 39 later).
 */
function directionOf(degrees: number): Point {
  if (degrees % 90 === 0) {
    const quarter = (((degrees / 90) % 4) + 4) % 4;
    return ([[1, 0], [0, 1], [-1, 0], [0, -1]] as Point[])[quarter];
  }
  const radians = (degrees * Math.PI) / 180;
  return [Math.cos(radians), Math.sin(radians)];
}

/**
 * The rect's corners in the order PaddleOCR's `get_mini_boxes` gives them: sorted by x, the left
 * pair split into top-left and bottom-left by y, the right pair into top-right and bottom-right.
 * Ties in x are broken by y so the order does not depend on floating-point noise in the corners.
 */
export function rectCorners(rect: RotatedRect): Quad {
  const [ux, uy] = directionOf(rect.angle);
  const hw = rect.width / 2;
  const hh = rect.height / 2;
  const [cx, cy] = rect.center;
  const corner = (s: number, t: number): Point => [cx + ux * hw * s - uy * hh * t, cy + uy * hw * s + ux * hh * t];
  const byX = [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const [topLeft, bottomLeft] = byX[1][1] > byX[0][1] ? [byX[0], byX[1]] : [byX[1], byX[0]];
  const [topRight, bottomRight] = byX[3][1] > byX[2][1] ? [byX[2], byX[3]] : [byX[3], byX[2]];
  return [topLeft, topRight, bottomRight, bottomLeft];
}

/** Area of a simple polygon (shoelace), always non-negative. */
export function polygonArea(poly: Point[]): number {
  let twice = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    twice += poly[j][0] * poly[i][1] - poly[i][0] * poly[j][1];
  }
  return Math.abs(twice) / 2;
}

/** Length of the closed outline, last vertex back to the first included (shapely's `length`). */
export function polygonPerimeter(poly: Point[]): number {
  let length = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    length += Math.hypot(poly[i][0] - poly[j][0], poly[i][1] - poly[j][1]);
  }
  return poly.length < 2 ? 0 : length;
}

/**
 * A projective map as a row-major 3 x 3 matrix: (u, v) goes to
 * ((m0 u + m1 v + m2) / w, (m3 u + m4 v + m5) / w) with w = m6 u + m7 v + m8.
 */
export type Homography = [number, number, number, number, number, number, number, number, number];

/**
 * The projective map that sends the unit square's corners (0,0), (1,0), (1,1), (0,1) onto the
 * quad's corners in order (Heckbert's closed form). A parallelogram, or a quad too degenerate to
 * have a projective map, gets the affine map through its first, second and fourth corners.
 */
export function unitSquareToQuad(quad: Quad): Homography {
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = quad;
  const sx = x0 - x1 + x2 - x3;
  const sy = y0 - y1 + y2 - y3;
  const det = (x1 - x2) * (y3 - y2) - (x3 - x2) * (y1 - y2);
  const scale = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), Math.abs(x3 - x0), Math.abs(y3 - y0), 1);
  if ((Math.abs(sx) < 1e-9 * scale && Math.abs(sy) < 1e-9 * scale) || Math.abs(det) < 1e-12 * scale * scale) {
    return [x1 - x0, x3 - x0, x0, y1 - y0, y3 - y0, y0, 0, 0, 1];
  }
  const g = (sx * (y3 - y2) - (x3 - x2) * sy) / det;
  const h = ((x1 - x2) * sy - sx * (y1 - y2)) / det;
  return [x1 - x0 + g * x1, x3 - x0 + h * x3, x0, y1 - y0 + g * y1, y3 - y0 + h * y3, y0, g, h, 1];
}

/**
 * The direction text runs on a page: the boxes' top and bottom edges summed as vectors, so long
 * lines decide it and short ones (a lone digit) barely count. A unit vector; [1, 0] when level.
 */
export function textDirection(boxes: readonly Quad[]): Point {
  let x = 0;
  let y = 0;
  for (const box of boxes) {
    for (const [from, to] of [
      [box[0], box[1]],
      [box[3], box[2]],
    ] as const) {
      x += to[0] - from[0];
      y += to[1] - from[1];
    }
  }
  const norm = Math.hypot(x, y);
  return norm === 0 ? [1, 0] : [x / norm, y / norm];
}

/** How far text runs clockwise of level, in degrees (see `textDirection`). */
export function textSkewDegrees(boxes: readonly Quad[]): number {
  const [x, y] = textDirection(boxes);
  return (Math.atan2(y, x) * 180) / Math.PI;
}
