import type { Quad } from '../postprocess/geometry.js';
import type { EdgeRoute } from '../edge/route.js';
import type { QualityReport } from '../quality/types.js';

export interface TextLine {
  text: string;
  confidence: number;
  /** Four corners, clockwise from top-left, in the coordinates of the upright (oriented) image. */
  box: Quad;
  /**
   * Since pipeline 1.4.0 a line is a printed row: the boxes the detector found on it, each read on
   * its own, left to right (the line's text joins theirs with spaces; its confidence is the
   * lowest of theirs). Absent on records made before, whose lines were the detector's boxes.
   */
  segments?: TextSegment[];
}

/** One box the detector found and the recogniser read. */
export interface TextSegment {
  text: string;
  confidence: number;
  box: Quad;
}

export interface DocumentResult {
  text: string;
  lines: TextLine[];
  /**
   * Text the detector found but the recogniser could not read (confidence under
   * `pipeline.recognition.dropScore`, or nothing but spaces): left out of `lines`, as PaddleOCR
   * leaves them, and counted, so that the page goes to a person instead of losing a line unseen.
   * Absent on records made before pipeline 1.3.0.
   */
  unreadLines?: number;
  /** Clockwise rotation applied to make the page upright, and what told it. */
  orientation: {
    rotation: 0 | 90 | 180 | 270;
    source: 'none' | 'exif' | 'boxes' | 'classifier' | 'exif+boxes' | 'exif+classifier';
    /**
     * Since pipeline 1.4.0: the clockwise turn the image's EXIF orientation claimed (0 without a
     * tag; ingest applied it before the pipeline saw the pixels), and whether the text itself
     * disagreed and turned the page further (`rotation` is that further turn).
     */
    exif?: { tag: number; rotation: 0 | 90 | 180 | 270; corrected: boolean };
  };
  /** With a recognition cascade: lines read, and how many the fast model's reading was kept for (early exits). */
  cascade?: { lines: number; earlyExits: number };
}

/** What a pipeline does with an image; each task has its result type in `TaskResult`. */
export type Task = 'document' | 'classification' | 'detection';

/** One label a classifier gave, with its score (softmax or sigmoid output, 0..1). */
export interface LabelScore {
  label: string;
  score: number;
}

/** What a classification pipeline answers: its top-k labels, best first. */
export interface ClassificationResult {
  labels: LabelScore[];
}

/** One object a detector found: its label, score, and box `[x1, y1, x2, y2]` in the original image's pixels. */
export interface DetectedBox extends LabelScore {
  box: [number, number, number, number];
}

/** What a detection pipeline answers: the boxes kept after the score threshold and NMS, best first. */
export interface DetectionResult {
  boxes: DetectedBox[];
}

/** The result a pipeline's models produce; each task has its own shape. */
export type TaskResult = DocumentResult | ClassificationResult | DetectionResult;

export function isDocumentResult(result: TaskResult): result is DocumentResult {
  return 'lines' in result;
}

export function isClassificationResult(result: TaskResult): result is ClassificationResult {
  return 'labels' in result;
}

export function isDetectionResult(result: TaskResult): result is DetectionResult {
  return 'boxes' in result;
}

export interface ModelLineage {
  role: string;
  /** The stage the model runs in, as the record's timings name it (`detection`, `recognitionFast`, ...). */
  stage?: string;
  id: string;
  version: string;
  sha256: string;
  preprocessHash: string;
  /** Where this version ran for this record: `production`, a `canary` share of traffic, or a `shadow` run after the answer. */
  lifecycle?: 'production' | 'canary' | 'shadow';
}

export interface Lineage {
  pipeline: { id: string; version: string };
  models: ModelLineage[];
  image: { sha256: string; phash: string };
  /** Hash of the effective gate and decision settings, so a record says which thresholds judged it. */
  configHash: string;
  /**
   * Present when the answer was repeated from the cache: `of` is the record that computed it;
   * `exact` is the same bytes, `near` an image within `distance` bits of perceptual hash.
   */
  cache?: CacheLineage;
  /** Present when an edge client sent the image: its routing policy and the stages that ran on the device (docs/edge.md). */
  edge?: EdgeRoute;
}

export interface CacheLineage {
  hit: 'exact' | 'near';
  of: string;
  distance: number;
}

export type Decision = 'accept' | 'review' | 'reject';

/** Why an image was routed where it was. `code` is stable for dashboards and clients; `message` is for people. */
export interface DecisionReason {
  code: string;
  message: string;
}

/** Milliseconds per stage, e.g. {decode, gate, orientation, detection, recognition, decide, total}. */
export type Timings = Record<string, number>;

export interface PredictionRecord {
  id: string;
  createdAt: string;
  source: Record<string, unknown>;
  image: { sha256: string; phash: string; format: string; width: number; height: number; bytes: number };
  quality: QualityReport;
  decision: Decision;
  reasons: DecisionReason[];
  result: TaskResult | null;
  lineage: Lineage;
  timings: Timings;
  /** Key of the stored image in the blob store when review needs it. */
  blob: string | null;
}
