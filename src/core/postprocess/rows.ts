import { textDirection, type Point, type Quad } from './geometry.js';

/** A piece of text the detector boxed and the recogniser read: one segment of a printed line. */
export interface Segment {
  text: string;
  confidence: number;
  box: Quad;
}

/** A printed line: its segments in reading order, joined by spaces, in one box around them all. */
export interface Row<S extends Segment = Segment> {
  text: string;
  /** The least confident segment's: a row is as unsure as its worst part. */
  confidence: number;
  box: Quad;
  segments: S[];
}

export interface RowOptions {
  /**
   * Two segments share a row when their extents across the line overlap by at least this share
   * of the shorter one's height, after following the earlier segment's own slope to the later one.
   */
  minOverlap: number;
  /** ...and when the taller is at most this many times as tall as the shorter (a heading is not its neighbour's row). */
  maxHeightRatio: number;
  /**
   * A segment that nearly touches the end of the one before it (a gap under `maxGap` of the
   * taller's height) needs only `minOverlap` of the shorter's height: a crease steps the print
   * within a word or an amount, and a line's neighbour above or below never starts that close.
   */
  touching: { maxGap: number; minOverlap: number };
}

export const DEFAULT_ROW_OPTIONS: RowOptions = { minOverlap: 0.5, maxHeightRatio: 2.2, touching: { maxGap: 0.5, minOverlap: 0.25 } };

/** A segment in the page's own frame: `u` along the lines, `v` across them (down the page). */
export interface Placed<S> {
  segment: S;
  left: number;
  right: number;
  /** Centre across the line, and half the height, at the segment's middle. */
  middle: number;
  centre: number;
  half: number;
  /** Change of `v` per unit of `u` along this segment's own baseline, in the page's frame. */
  slope: number;
}

/** Curl bends a line by a few degrees from its neighbours, not more: about 11 degrees at most. */
const MAX_SLOPE = 0.2;

function lengthOf(a: Point, b: Point): number {
  return Math.hypot(b[0] - a[0], b[1] - a[1]);
}


export function place<S extends Segment>(segment: S, along: Point): Placed<S> {
  const across: Point = [-along[1], along[0]];
  const us = segment.box.map((p) => p[0] * along[0] + p[1] * along[1]);
  const vs = segment.box.map((p) => p[0] * across[0] + p[1] * across[1]);
  const [tl, tr, br, bl] = segment.box;
  const du = us[1] - us[0] + (us[2] - us[3]);
  const dv = vs[1] - vs[0] + (vs[2] - vs[3]);
  const top = (vs[0] + vs[1]) / 2;
  const bottom = (vs[2] + vs[3]) / 2;
  const height = (lengthOf(tl, bl) + lengthOf(tr, br)) / 2;
  return {
    segment,
    left: Math.min(...us),
    right: Math.max(...us),
    middle: (Math.min(...us) + Math.max(...us)) / 2,
    centre: (top + bottom) / 2,
    half: Math.max(height, 1) / 2,
    // A short box's direction is its rectangle's whim (a lone digit is nearly square): only a
    // segment clearly longer than tall says which way its line runs.
    slope: du > 0 && du >= 2 * height ? Math.max(-MAX_SLOPE, Math.min(MAX_SLOPE, dv / du)) : 0,
  };
}

/**
 * How much of the shorter segment's height `b` shares with `a` extended to `b` along a slope
 * between the page's direction and `a`'s own, whichever in that range lines them up best: on
 * curled paper a line bends away from the page's direction, and a short or heavy box's own slope
 * (a double-height word) can overshoot its line's.
 */
function overlapShare<S>(a: Placed<S>, b: Placed<S>): number {
  const run = b.middle - a.middle;
  const aligned = run === 0 ? 0 : (b.centre - a.centre) / run;
  const slope = Math.max(Math.min(0, a.slope), Math.min(Math.max(0, a.slope), aligned));
  const centre = a.centre + slope * run;
  const top = Math.max(centre - a.half, b.centre - b.half);
  const bottom = Math.min(centre + a.half, b.centre + b.half);
  return Math.max(0, bottom - top) / (2 * Math.min(a.half, b.half));
}

/**
 * Groups segments into the printed lines they sit on, in reading order: rows top to bottom, the
 * segments of a row left to right. Each segment is matched with the row whose nearest segment
 * before it, followed along a slope between the page's and that segment's own, covers most of
 * its height: a neighbour, not a straight line across the page, so a tilted page and a curled
 * receipt keep their rows,
 * and a label and its amount far apart on one line ("TOTAL ... 36.26") come out together.
 * Pure: the segments' boxes are in the upright page's pixels.
 */
export function groupRows<S extends Segment>(segments: readonly S[], options: RowOptions = DEFAULT_ROW_OPTIONS): Row<S>[] {
  if (segments.length === 0) return [];
  const along = textDirection(segments.map((segment) => segment.box));
  const placed = segments.map((s) => place(s, along)).sort((a, b) => a.left - b.left || a.centre - b.centre);
  const rows: Placed<S>[][] = [];
  for (const item of placed) {
    let best: Placed<S>[] | null = null;
    let bestScore = 0;
    for (const row of rows) {
      const previous = row[row.length - 1];
      // A row continues to the right: a segment that overlaps its last one along the line by more
      // than a third of its own length sits above or below it, not after it.
      if (item.left < previous.right - (item.right - item.left) / 3) continue;
      const ratio = Math.max(item.half, previous.half) / Math.min(item.half, previous.half);
      if (ratio > options.maxHeightRatio) continue;
      const share = overlapShare(previous, item);
      const touching = item.left - previous.right < options.touching.maxGap * 2 * Math.max(item.half, previous.half);
      if (share < (touching ? options.touching.minOverlap : options.minOverlap)) continue;
      // Prefer the best overlap; nearer rows win ties, so a gap across the page is bridged last.
      const score = share - 1e-6 * (item.left - previous.right);
      if (score > bestScore) [best, bestScore] = [row, score];
    }
    if (best === null) rows.push([item]);
    else best.push(item);
  }
  return rows
    .map((row) => ({ row, centre: row.reduce((sum, p) => sum + p.centre, 0) / row.length, left: row[0].left }))
    .sort((a, b) => a.centre - b.centre || a.left - b.left)
    .map(({ row }) => rowOf(row, along));
}

function rowOf<S extends Segment>(row: Placed<S>[], along: Point): Row<S> {
  const segments = row.map((p) => p.segment);
  return {
    text: segments.map((s) => s.text.trim()).join(' '),
    confidence: Math.min(...segments.map((s) => s.confidence)),
    box: boxAround(segments, along),
    segments,
  };
}

/** The rectangle around the segments with its sides along `along` and across it. */
export function boxAround(segments: readonly Segment[], along: Point): Quad {
  const across: Point = [-along[1], along[0]];
  let [left, right, top, bottom] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const { box } of segments) {
    for (const p of box) {
      const u = p[0] * along[0] + p[1] * along[1];
      const v = p[0] * across[0] + p[1] * across[1];
      [left, right, top, bottom] = [Math.min(left, u), Math.max(right, u), Math.min(top, v), Math.max(bottom, v)];
    }
  }
  return quadAlong(along, left, right, top, bottom);
}

/** The rectangle from `left` to `right` along `along` and from `top` to `bottom` across it (down the page). */
export function quadAlong(along: Point, left: number, right: number, top: number, bottom: number): Quad {
  const across: Point = [-along[1], along[0]];
  const point = (u: number, v: number): Point => [u * along[0] + v * across[0], u * along[1] + v * across[1]];
  return [point(left, top), point(right, top), point(right, bottom), point(left, bottom)];
}
