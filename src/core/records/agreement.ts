import { characterErrorRate } from '../text/error-rate.js';
import { isClassificationResult, isDetectionResult, isDocumentResult, type DetectedBox, type TaskResult } from './prediction.js';

/** Intersection over union of two `[x1, y1, x2, y2]` boxes. */
export function boxIoU(a: DetectedBox['box'], b: DetectedBox['box']): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * How far two answers to the same image agree, 0..1: for documents one minus the character error
 * rate of the candidate's text against the reference's (floored at 0); for classification whether
 * the top labels are the same; for detection each reference box matched greedily to the unmatched
 * candidate box of its label with the highest IoU, the IoUs summed over the boxes of both
 * (Dice-style, so missed and extra boxes both cost). Two answers the gate stopped agree; one
 * stopped and one read do not.
 */
export function answerAgreement(reference: TaskResult | null, candidate: TaskResult | null): number {
  if (reference === null || candidate === null) return reference === candidate ? 1 : 0;
  if (isDocumentResult(reference) && isDocumentResult(candidate)) return Math.max(0, 1 - characterErrorRate(reference.text, candidate.text));
  if (isClassificationResult(reference) && isClassificationResult(candidate)) return reference.labels[0]?.label === candidate.labels[0]?.label ? 1 : 0;
  if (isDetectionResult(reference) && isDetectionResult(candidate)) {
    const total = reference.boxes.length + candidate.boxes.length;
    if (total === 0) return 1;
    const unmatched = [...candidate.boxes];
    let overlap = 0;
    for (const box of reference.boxes) {
      let best = -1;
      let bestIoU = 0;
      unmatched.forEach((other, i) => {
        const iou = other.label === box.label ? boxIoU(box.box, other.box) : 0;
        if (iou > bestIoU) [best, bestIoU] = [i, iou];
      });
      if (best >= 0) {
        unmatched.splice(best, 1);
        overlap += bestIoU;
      }
    }
    return (2 * overlap) / total;
  }
  return 0;
}
