import type { Quad } from '../postprocess/geometry.js';
import type { DetectedBox, LabelScore, Task, TextLine } from './prediction.js';

/** Why a task exists: the decision asked for a person, or an accepted result was drawn for audit. */
export type ReviewKind = 'review' | 'audit';

/** `claimed` only while the lease runs; an expired claim is `pending` again. */
export type ReviewStatus = 'pending' | 'claimed' | 'done';

export type Verdict = 'confirm' | 'correct' | 'unusable';

/** What the model said, copied into the task when it is created, so the answer is kept beside it. */
export interface ModelOutput {
  /** A document's lines; empty for classification and detection tasks. */
  lines: TextLine[];
  /** A classification task's candidates, best first, as the model scored them. */
  labels?: LabelScore[];
  /** A detection task's boxes, `[x1, y1, x2, y2]` in the stored image's (upright) pixels. */
  boxes?: DetectedBox[];
  /** Clockwise turn from the stored image (after its EXIF orientation) to the page the boxes are in. */
  rotation: 0 | 90 | 180 | 270;
  width: number;
  height: number;
}

/** What a task asks a person to review, from the model output it holds. */
export function outputTask(output: ModelOutput): Task {
  if (output.labels !== undefined) return 'classification';
  if (output.boxes !== undefined) return 'detection';
  return 'document';
}

/** A box as a person left it on a detection task: the shape datasets are exported in. */
export interface ReviewedBox {
  label: string;
  box: [number, number, number, number];
}

/** One line as the person left it: `modelText` is what the model read, `text` what the person kept. */
export interface AnsweredLine {
  index: number;
  modelText: string;
  text: string;
}

/** A line the model missed and the person drew. */
export interface AddedLine {
  box: Quad;
  text: string;
}

/** The human answer, resolved against the model's output and kept as is. */
export interface ReviewAnswer {
  verdict: Verdict;
  /** Every line the model read, in its order, with the text the person kept (all lines, even unchanged ones); empty when unusable. */
  lines: AnsweredLine[];
  added: AddedLine[];
  /** Indexes of the model's lines the person removed (not text at all). */
  removed: number[];
  /** Why the image is unusable (`blurry`, `wrong-document`, `glare`, ...); null otherwise. */
  reason: string | null;
  /**
   * Classification tasks: the label the person chose (a known one or a new one); absent when
   * unusable. Detection tasks: every box as the person left it (kept, relabelled, moved or drawn).
   */
  label?: string;
  boxes?: ReviewedBox[];
  /**
   * The model's items the person looked at: every line (documents), the one label
   * (classification), every box (detection); 0 when the image was unusable.
   */
  linesReviewed: number;
  /** Of those, the ones the person changed: a line's text changed or removed, the label changed, a box removed, relabelled or moved beyond IoU 0.5. */
  linesChanged: number;
  /** Detection tasks: boxes the person drew that match none of the model's (documents count `added`). */
  boxesAdded?: number;
  by: string;
  at: string;
}

/** Items the model missed and the person added: lines on documents, boxes on detection tasks. */
export function addedCount(answer: ReviewAnswer): number {
  return answer.boxesAdded ?? answer.added.length;
}

export interface ReviewClaim {
  by: string;
  at: string;
  expiresAt: string;
}

export interface ReviewTask {
  /** UUIDv7, so tasks sort in the order they were made. */
  id: string;
  predictionId: string;
  kind: ReviewKind;
  createdAt: string;
  /** The models that produced the output, `id@version` joined by ` + `: the key the statistics group by. */
  modelVersion: string;
  /** Blob-store key of the image as it was sent. */
  blob: string;
  modelOutput: ModelOutput;
  status: ReviewStatus;
  /** The last claim; it may have expired (then the status is `pending`). */
  claim: ReviewClaim | null;
  answer: ReviewAnswer | null;
}

export type NewReviewTask = Pick<ReviewTask, 'predictionId' | 'kind' | 'modelVersion' | 'blob' | 'modelOutput'>;

/** Counts of answered tasks for one model version and kind, from which the statistics are computed. */
export interface ReviewTally {
  modelVersion: string;
  kind: ReviewKind;
  answered: number;
  unusable: number;
  linesReviewed: number;
  linesChanged: number;
  linesAdded: number;
}
