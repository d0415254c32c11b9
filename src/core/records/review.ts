import type { Quad } from '../postprocess/geometry.js';
import type { TextLine } from './prediction.js';

/** Why a task exists: the decision asked for a person, or an accepted result was drawn for audit. */
export type ReviewKind = 'review' | 'audit';

/** `claimed` only while the lease runs; an expired claim is `pending` again. */
export type ReviewStatus = 'pending' | 'claimed' | 'done';

export type Verdict = 'confirm' | 'correct' | 'unusable';

/** What the model said, copied into the task when it is created, so the answer is kept beside it. */
export interface ModelOutput {
  lines: TextLine[];
  /** Clockwise turn from the stored image (after its EXIF orientation) to the page the boxes are in. */
  rotation: 0 | 90 | 180 | 270;
  width: number;
  height: number;
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

/** A reviewed classification: the label the person chose. */
export interface ClassificationAnswer {
  label: string;
}

/** A reviewed detection: every box the person kept, relabelled or drew, `[x1, y1, x2, y2]` in the original image's pixels. */
export interface DetectionAnswer {
  boxes: { label: string; box: [number, number, number, number] }[];
}

/** The human answer, resolved against the model's output and kept as is. */
export interface ReviewAnswer {
  /** Classification and detection tasks: what the person settled on (absent for documents, whose answer is the lines). */
  result?: ClassificationAnswer | DetectionAnswer;
  verdict: Verdict;
  /** Every line the model read, in its order, with the text the person kept (all lines, even unchanged ones); empty when unusable. */
  lines: AnsweredLine[];
  added: AddedLine[];
  /** Indexes of the model's lines the person removed (not text at all). */
  removed: number[];
  /** Why the image is unusable (`blurry`, `wrong-document`, `glare`, ...); null otherwise. */
  reason: string | null;
  /** The model's lines the person looked at: all of them, or 0 when the image was unusable. */
  linesReviewed: number;
  /** Of those, the ones whose text the person changed or removed. */
  linesChanged: number;
  by: string;
  at: string;
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
