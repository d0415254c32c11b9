/** An axis-aligned box: left, top, right, bottom, in pixels. */
export type Box = [number, number, number, number];

export interface Detection {
  label: string;
  classIndex: number;
  score: number;
  box: Box;
}

/** Intersection over union; 0 when both boxes are empty. */
export function intersectionOverUnion(a: Box, b: Box): number {
  const width = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const height = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Greedy non-maximum suppression per class, as torchvision's batched_nms and Ultralytics'
 * non_max_suppression (agnostic=False) run it: the best-scoring box is kept and every box of the
 * same class overlapping it by more than `iouThreshold` is dropped; boxes of different classes
 * never suppress each other. Returns at most `maxDetections`, best first (equal scores keep
 * their input order).
 */
export function nonMaxSuppression(detections: Detection[], iouThreshold: number, maxDetections = Infinity): Detection[] {
  const order = detections.map((_, i) => i).sort((a, b) => detections[b].score - detections[a].score || a - b);
  const keptByClass = new Map<number, Detection[]>();
  const kept: Detection[] = [];
  for (const i of order) {
    if (kept.length >= maxDetections) break;
    const candidate = detections[i];
    const sameClass = keptByClass.get(candidate.classIndex) ?? [];
    if (sameClass.some((other) => intersectionOverUnion(other.box, candidate.box) > iouThreshold)) continue;
    sameClass.push(candidate);
    keptByClass.set(candidate.classIndex, sameClass);
    kept.push(candidate);
  }
  return kept;
}
