import type { Frame } from '../core/frame.js';
import type { Quad } from '../core/postprocess/geometry.js';
import { cropQuad } from '../core/preprocess/crop.js';
import type { QuarterTurn } from '../core/preprocess/rotate.js';
import type { DocumentResult } from '../core/records/prediction.js';

function sideLengths(quad: Quad): { across: number; down: number } {
  const [topLeft, topRight, , bottomLeft] = quad;
  return {
    across: Math.hypot(topRight[0] - topLeft[0], topRight[1] - topLeft[1]),
    down: Math.hypot(bottomLeft[0] - topLeft[0], bottomLeft[1] - topLeft[1]),
  };
}

/**
 * Whether the page lies on its side: more than `share` of its text, measured by the long side of
 * each box, sits in boxes taller than wide. Weighting by length keeps a few short tall boxes (a
 * lone "1", a bracket) from turning an upright page.
 */
export function isSideways(boxes: Quad[], share: number): boolean {
  let tall = 0;
  let total = 0;
  for (const box of boxes) {
    const { across, down } = sideLengths(box);
    total += Math.max(across, down);
    if (down > across) tall += down;
  }
  return total > 0 && tall / total > share;
}

/** The 0/180 classifier's verdict on one line, with the line's length as its weight in the page vote. */
export interface LineVote {
  label: string;
  confidence: number;
  length: number;
}

/**
 * Whether the page is upside down: more than `share` of its text (by line length) is a line the
 * classifier calls 180 with more than `threshold` confidence. A page-level vote, because on a
 * single short crop ("1", "-") the classifier is close to a coin toss.
 */
export function isUpsideDown(votes: LineVote[], threshold: number, share: number): boolean {
  let flipped = 0;
  let total = 0;
  for (const vote of votes) {
    total += vote.length;
    if (vote.label === '180' && vote.confidence > threshold) flipped += vote.length;
  }
  return total > 0 && flipped / total > share;
}

/** A crop's scores from the built-in 0/180 classifier, in the order of its labels (0, 180). */
export type LineClassifier = (crop: Frame) => Promise<ArrayLike<number>>;

/**
 * The pipeline's turn decision made on a device: each line's crop through the 0/180 classifier,
 * the page upside down when enough of its text (by length) reads as 180 (`isUpsideDown`).
 */
export async function pageUpsideDown(frame: Frame, boxes: Quad[], classify: LineClassifier, settings: { lineThreshold: number; upsideDownShare: number }): Promise<boolean> {
  const votes: LineVote[] = [];
  for (const box of boxes) {
    const [upright, over] = Array.from(await classify(cropQuad(frame, box)));
    votes.push({ label: over > upright ? '180' : '0', confidence: Math.max(upright, over), length: lineLength(box) });
  }
  return isUpsideDown(votes, settings.lineThreshold, settings.upsideDownShare);
}

/** The length of a line's box along its text: the weight of its vote. */
export function lineLength(box: Quad): number {
  const { across, down } = sideLengths(box);
  return Math.max(across, down);
}

/**
 * What the result says made the page upright. EXIF orientations 2..8 mean ingest already turned
 * or mirrored the pixels; of the pipeline's own signals the one named is the last that changed
 * the rotation: the boxes for a quarter turn, the classifier when it turned the page over.
 */
export function orientationSource(exifOrientation: number, turnedByBoxes: boolean, turnedByClassifier: boolean): DocumentResult['orientation']['source'] {
  const exif = exifOrientation >= 2 && exifOrientation <= 8;
  const own = turnedByClassifier ? 'classifier' : turnedByBoxes ? 'boxes' : null;
  if (own === null) return exif ? 'exif' : 'none';
  return exif ? `exif+${own}` : own;
}

/** The sum of two clockwise turns. */
export function addTurns(a: QuarterTurn, b: QuarterTurn): QuarterTurn {
  return ((a + b) % 360) as QuarterTurn;
}

/** The clockwise turn each EXIF orientation tag applies (2, 4, 5 and 7 mirror as well). */
const EXIF_TURNS: Record<number, QuarterTurn> = { 1: 0, 2: 0, 3: 180, 4: 180, 5: 270, 6: 90, 7: 90, 8: 270 };

/**
 * What the EXIF tag claimed, beside what the text said: ingest trusts the tag first and turns the
 * pixels; when the text's own direction (the boxes, the classifier) then turns the page further,
 * the tag was wrong (`corrected`), and both are kept in the result.
 */
export function exifClaim(tag: number, textRotation: QuarterTurn): NonNullable<DocumentResult['orientation']['exif']> {
  const known = EXIF_TURNS[tag] !== undefined;
  return { tag: known ? tag : 1, rotation: known ? EXIF_TURNS[tag] : 0, corrected: textRotation !== 0 };
}
