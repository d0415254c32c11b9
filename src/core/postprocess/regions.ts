import type { Point } from './geometry.js';

/** A single-channel float map, row-major, top row first. */
export interface FloatMap {
  data: Float32Array;
  width: number;
  height: number;
}

/**
 * The 8-connected regions of `map > threshold`, in raster order of their first pixel, at most
 * `limit` of them. Each region comes back as the leftmost and rightmost pixel of each of its rows:
 * the pixels whose convex hull is the region's hull, and so the same hull as the outer contour
 * OpenCV's findContours traces (which also joins pixels that touch diagonally).
 *
 * One pass over the map finds the runs of foreground pixels row by row and joins each run to the
 * runs above it that it touches (union-find over runs, not pixels); memory grows with the number
 * of runs, and nothing is allocated per pixel.
 */
export function foregroundRegions(map: FloatMap, threshold: number, limit: number): Point[][] {
  const { data, width, height } = map;

  let runCount = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let inside = false;
    for (let x = 0; x < width; x++) {
      const on = data[row + x] > threshold;
      if (on && !inside) runCount++;
      inside = on;
    }
  }

  const runStart = new Int32Array(runCount);
  const runEnd = new Int32Array(runCount);
  const runRow = new Int32Array(runCount);
  const parent = new Int32Array(runCount);
  const find = (r: number): number => {
    while (parent[r] !== r) {
      parent[r] = parent[parent[r]];
      r = parent[r];
    }
    return r;
  };
  // The smaller index becomes the root, so each region's root is its first run in raster order.
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra < rb) parent[rb] = ra;
    else if (rb < ra) parent[ra] = rb;
  };

  let run = 0;
  let previousFirst = 0;
  let previousEnd = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const first = run;
    for (let x = 0; x < width; x++) {
      if (!(data[row + x] > threshold)) continue;
      const start = x;
      while (x + 1 < width && data[row + x + 1] > threshold) x++;
      runStart[run] = start;
      runEnd[run] = x;
      runRow[run] = y;
      parent[run] = run;
      run++;
    }
    let above = previousFirst;
    for (let r = first; r < run; r++) {
      while (above < previousEnd && runEnd[above] < runStart[r] - 1) above++;
      for (let k = above; k < previousEnd && runStart[k] <= runEnd[r] + 1; k++) union(r, k);
    }
    previousFirst = first;
    previousEnd = run;
  }

  const regionOfRun = new Int32Array(runCount);
  const regionOfRoot = new Int32Array(runCount).fill(-1);
  let regionCount = 0;
  for (let r = 0; r < runCount; r++) {
    const root = find(r);
    if (regionOfRoot[root] < 0) regionOfRoot[root] = regionCount++;
    regionOfRun[r] = regionOfRoot[root];
  }
  const kept = Math.min(regionCount, limit);

  const regions: Point[][] = Array.from({ length: kept }, () => []);
  const lastRow = new Int32Array(kept).fill(-1);
  for (let r = 0; r < runCount; r++) {
    const region = regionOfRun[r];
    if (region >= kept) continue;
    const points = regions[region];
    const y = runRow[r];
    if (lastRow[region] === y) {
      // A later run of the same region on this row: it moves the row's right end.
      points[points.length - 1][0] = runEnd[r];
    } else {
      points.push([runStart[r], y]);
      points.push([runEnd[r], y]);
      lastRow[region] = y;
    }
  }
  return regions;
}
