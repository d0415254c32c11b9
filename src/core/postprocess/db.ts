import { VisionopsError } from '../errors.js';
import { roundHalfEven } from '../rounding.js';
import { meanInsideQuad, meanInsideRegion } from './box-score.js';
import { minAreaRect, rectCorners, type Point, type Quad, type RotatedRect } from './geometry.js';
import { foregroundRegions } from './regions.js';

/** The text probability map a DB detector outputs ([1, 1, H, W] without the leading axes). */
export interface ProbabilityMap {
  data: Float32Array;
  width: number;
  height: number;
}

export interface DbOptions {
  /** A map value above this is text. */
  threshold: number;
  /** A region whose mean probability inside its box is below this is dropped. */
  boxThreshold: number;
  /** How far the shrunk text kernel is grown back: distance = area * unclipRatio / perimeter. */
  unclipRatio: number;
  /** At most this many regions are considered, in raster order of their first pixel. */
  maxCandidates: number;
  /** Shortest side, in map pixels, of a region's box; PaddleOCR's min_size, 3 by default. */
  minSize?: number;
  /**
   * PaddleOCR's det_db_score_mode: 'fast' (its default, and here when absent) scores a region by
   * the mean inside its min-area rect, 'slow' by the mean inside the region itself, so that a line
   * a stamp crosses keeps its score (the document pipeline's default; docs/document-pipeline.md).
   */
  scoreMode?: 'fast' | 'slow';
}

export interface DetectedBox {
  /** Integer source-image corners: top-left, top-right, bottom-right, bottom-left. */
  box: Quad;
  /** Mean probability inside the region's box before it was grown. */
  score: number;
}

/**
 * pyclipper's round-join offset of the box, followed by its min-area rect, is the rect grown by
 * the distance on every side: the rounded corners stay inside that rect and the straight sides
 * touch it. pyclipper works on integers (corners truncated, offset vertices rounded); the exact
 * growth used here differs from it by less than one map pixel.
 */
function unclip(rect: RotatedRect, unclipRatio: number): RotatedRect {
  const area = rect.width * rect.height;
  const perimeter = 2 * (rect.width + rect.height);
  const distance = (area * unclipRatio) / perimeter;
  return { ...rect, width: rect.width + 2 * distance, height: rect.height + 2 * distance };
}

/**
 * Text boxes from a DB probability map, PaddleOCR's `DBPostProcess.boxes_from_bitmap` ("quad"
 * boxes) followed by the clipping and size filter of its `TextDetector.filter_tag_det_res`:
 *
 * 1. the map above `threshold`, split into 8-connected regions (their hulls equal those of the
 *    outer contours cv2.findContours returns; the contours of holes inside regions, which
 *    cv2.RETR_LIST also returns, are left out: a hole's box lies inside its region's box and would
 *    only give a duplicate, partial line);
 * 2. per region, its min-area rect; dropped if its short side is under `minSize`;
 * 3. the map's mean inside that rect (`box_score_fast`); dropped if under `boxThreshold`;
 * 4. the rect grown by area * unclipRatio / perimeter; dropped if its short side is under
 *    `minSize + 2`;
 * 5. the corners scaled by sourceWidth / map.width and sourceHeight / map.height, rounded half to
 *    even as numpy does, clipped to the source's pixels (0 .. width - 1, 0 .. height - 1); a box
 *    whose top or left side is then 3 pixels or shorter is dropped.
 *
 * Corners keep the get_mini_boxes order: top-left, top-right, bottom-right, bottom-left.
 */
export function extractTextBoxes(map: ProbabilityMap, options: DbOptions, sourceWidth: number, sourceHeight: number): DetectedBox[] {
  if (map.data.length !== map.width * map.height) {
    throw new VisionopsError(
      'INFERENCE_FAILED',
      `The detection map holds ${map.data.length} values but is described as ${map.width} x ${map.height}: pass the model's [1, 1, H, W] output with H and W from its shape.`,
      { length: map.data.length, width: map.width, height: map.height },
    );
  }
  const minSize = options.minSize ?? 3;
  const regions = foregroundRegions(map, options.threshold, options.maxCandidates);
  const rowLow = new Int32Array(map.height);
  const rowHigh = new Int32Array(map.height);
  const toSource = (p: Point): Point => [
    Math.min(Math.max(roundHalfEven((p[0] / map.width) * sourceWidth), 0), sourceWidth - 1),
    Math.min(Math.max(roundHalfEven((p[1] / map.height) * sourceHeight), 0), sourceHeight - 1),
  ];
  const shortSide = (rect: RotatedRect) => Math.min(rect.width, rect.height);

  const boxes: DetectedBox[] = [];
  for (const pixels of regions) {
    const rect = minAreaRect(pixels);
    if (shortSide(rect) < minSize) continue;
    const score = options.scoreMode === 'slow' ? meanInsideRegion(map, pixels) : meanInsideQuad(map, rectCorners(rect), rowLow, rowHigh);
    if (score < options.boxThreshold) continue;
    const grown = unclip(rect, options.unclipRatio);
    if (shortSide(grown) < minSize + 2) continue;
    const box = rectCorners(grown).map(toSource) as Quad;
    const top = Math.trunc(Math.hypot(box[1][0] - box[0][0], box[1][1] - box[0][1]));
    const left = Math.trunc(Math.hypot(box[3][0] - box[0][0], box[3][1] - box[0][1]));
    if (top <= 3 || left <= 3) continue;
    boxes.push({ box, score });
  }
  return boxes;
}

/**
 * Reading order as PaddleOCR's `sorted_boxes`: by the top-left corner's y then x, then a box moves
 * before its predecessors while their top-left corners are within 10 pixels vertically and it
 * starts further left (10 source pixels is Paddle's constant for "the same line").
 */
export function sortReadingOrder(boxes: DetectedBox[]): DetectedBox[] {
  const sorted = boxes.slice().sort((a, b) => a.box[0][1] - b.box[0][1] || a.box[0][0] - b.box[0][0]);
  for (let i = 0; i < sorted.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const upper = sorted[j].box[0];
      const lower = sorted[j + 1].box[0];
      if (Math.abs(lower[1] - upper[1]) >= 10 || lower[0] >= upper[0]) break;
      [sorted[j], sorted[j + 1]] = [sorted[j + 1], sorted[j]];
    }
  }
  return sorted;
}
