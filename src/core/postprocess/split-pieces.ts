import { textDirection, type Quad } from './geometry.js';
import { boxAround, place, quadAlong, type Row, type Segment } from './rows.js';

/** Pieces of one printed row close enough to be one stretch of print, to be read again as one crop. */
export interface SplitPieces<S extends Segment = Segment> {
  /** The pieces, in reading order. */
  segments: S[];
  /** The rectangle around them: the box of the segment read in their place. */
  box: Quad;
  /**
   * What to read, one rectangle a piece, end to end along the line: each as tall as the tallest
   * piece, along its own piece (its direction and height on the page), meeting its neighbours
   * halfway across the gap, and the first and last widened at the run's ends (never into the
   * row's other segments). Cut and set side by side, they make a straight line of a stepped or
   * curled one.
   */
  readBoxes: Quad[];
}

export interface SplitOptions {
  /** Neighbours are one stretch of print when the gap between them (negative where they overlap) is under this share of the taller's height. */
  maxGap: number;
  /** The stretch is widened at each end by this share of its height. */
  margin: number;
}

/**
 * Measured on the phone photos and scanned receipts of docs/real-world.md: pieces closer than
 * half their height are a word or an amount the detector cut ("7" + "80" for "77.80", its first
 * digit too faint to box); wider gaps are mostly columns ("2" "15.50", a quantity and its price)
 * that one crop would run together.
 */
export const DEFAULT_SPLIT_OPTIONS: SplitOptions = { maxGap: 0.5, margin: 0.5 };

/**
 * The runs of a row's segments that the detector split where the print runs on: each neighbour
 * closer than `maxGap` of their height, or overlapping. Read as one crop, a run keeps what fell
 * between or beside its boxes (a faint digit, a decimal point) and reads each character once.
 * Pure: the boxes are in the upright page's pixels.
 */
export function splitPieces<S extends Segment>(row: Row<S>, options: SplitOptions = DEFAULT_SPLIT_OPTIONS): SplitPieces<S>[] {
  const along = textDirection(row.segments.map((segment) => segment.box));
  const placed = row.segments.map((segment) => place(segment, along));
  const runs: number[][] = [];
  for (let i = 1; i < placed.length; i++) {
    const gap = placed[i].left - placed[i - 1].right;
    if (gap >= options.maxGap * 2 * Math.max(placed[i].half, placed[i - 1].half)) continue;
    const last = runs[runs.length - 1];
    if (last !== undefined && last[last.length - 1] === i - 1) last.push(i);
    else runs.push([i - 1, i]);
  }
  return runs.map((run) => {
    const first = run[0];
    const end = run[run.length - 1];
    const half = Math.max(...run.map((i) => placed[i].half));
    const margin = options.margin * 2 * half;
    const before = first === 0 ? margin : Math.max(0, Math.min(margin, placed[first].left - placed[first - 1].right));
    const after = end === placed.length - 1 ? margin : Math.max(0, Math.min(margin, placed[end + 1].left - placed[end].right));
    const readBoxes = run.map((i, k) => {
      const widenBefore = k === 0 ? before : (placed[i].left - placed[run[k - 1]].right) / 2;
      const widenAfter = k === run.length - 1 ? after : (placed[run[k + 1]].left - placed[i].right) / 2;
      // Along the piece's own direction where it is long enough to have one: on curled paper
      // each piece follows its own stretch of the line.
      const own = placed[i].right - placed[i].left >= 4 * placed[i].half ? textDirection([placed[i].segment.box]) : along;
      const piece = place(placed[i].segment, own);
      return quadAlong(own, piece.left - widenBefore, piece.right + widenAfter, piece.centre - half, piece.centre + half);
    });
    const segments = run.map((i) => placed[i].segment);
    return { segments, box: boxAround(segments, along), readBoxes };
  });
}
