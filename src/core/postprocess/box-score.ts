import type { Point, Quad } from './geometry.js';
import type { FloatMap } from './regions.js';

/**
 * Mean of the map over the pixels a convex quad covers, PaddleOCR's `box_score_fast`: the quad is
 * taken relative to its bounding box (clipped to the map), its corners truncated to integers, and
 * rasterised as OpenCV's fillPoly does, outline included; 0 when it covers no pixel.
 *
 * fillPoly draws the polygon's edges as 8-connected lines and fills the scanlines between them; for
 * a convex polygon each row of that is one span from the leftmost to the rightmost line pixel on
 * the row, which is what is measured here. `rowLow` and `rowHigh` are scratch rows at least as long
 * as the map is tall, so scoring hundreds of boxes allocates nothing.
 */
export function meanInsideQuad(map: FloatMap, quad: Quad, rowLow: Int32Array, rowHigh: Int32Array): number {
  const { data, width, height } = map;
  const clamp = (v: number, high: number) => (v < 0 ? 0 : v > high ? high : v);
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const xMin = clamp(Math.floor(Math.min(...xs)), width - 1);
  const xMax = clamp(Math.ceil(Math.max(...xs)), width - 1);
  const yMin = clamp(Math.floor(Math.min(...ys)), height - 1);
  const yMax = clamp(Math.ceil(Math.max(...ys)), height - 1);
  const boxWidth = xMax - xMin + 1;
  const boxHeight = yMax - yMin + 1;

  rowLow.fill(2147483647, 0, boxHeight);
  rowHigh.fill(-2147483648, 0, boxHeight);
  const mark = (x: number, y: number) => {
    if (y < 0 || y >= boxHeight) return;
    if (x < rowLow[y]) rowLow[y] = x;
    if (x > rowHigh[y]) rowHigh[y] = x;
  };
  for (let i = 0; i < 4; i++) {
    const [ax, ay] = quad[i];
    const [bx, by] = quad[(i + 1) % 4];
    const x0 = Math.trunc(ax - xMin);
    const y0 = Math.trunc(ay - yMin);
    const dx = Math.trunc(bx - xMin) - x0;
    const dy = Math.trunc(by - yMin) - y0;
    const steps = Math.max(Math.abs(dx), Math.abs(dy), 1);
    for (let s = 0; s <= steps; s++) {
      mark(x0 + Math.round((s * dx) / steps), y0 + Math.round((s * dy) / steps));
    }
  }

  let sum = 0;
  let count = 0;
  for (let y = 0; y < boxHeight; y++) {
    const low = Math.max(rowLow[y], 0);
    const high = Math.min(rowHigh[y], boxWidth - 1);
    const row = (yMin + y) * width + xMin;
    for (let x = low; x <= high; x++) sum += data[row + x];
    if (high >= low) count += high - low + 1;
  }
  return count === 0 ? 0 : sum / count;
}

/**
 * Mean of the map over a region, PaddleOCR's `box_score_slow`: every pixel between the region's
 * leftmost and rightmost pixel on each of its rows (`foregroundRegions`' points), the region's own
 * shape rather than its rectangle. A line with a stamp or a smudge across it bulges; its rectangle
 * grows by the bulge and takes in background that the region does not hold.
 */
export function meanInsideRegion(map: FloatMap, points: Point[]): number {
  const { data, width } = map;
  let sum = 0;
  let count = 0;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const [left, y] = points[i];
    const right = points[i + 1][0];
    const row = y * width;
    for (let x = left; x <= right; x++) sum += data[row + x];
    count += right - left + 1;
  }
  return count === 0 ? 0 : sum / count;
}
