import type { QualityReport } from '../quality/types.js';
import type { DecisionReason, DetectedBox, LabelScore } from '../records/prediction.js';
import { qualityReasons, REASON_CODES, type DecisionOutcome } from './document.js';

/** A user's model manifest's `decision`: accept above a confidence, review between, reject below; some labels always reviewed. */
export interface ModelDecisionRule {
  acceptAbove: number;
  /** Classification only: a detector's boxes under `output.scoreThreshold` are dropped already. */
  rejectBelow: number;
  alwaysReview: string[];
}

/** Stable reason codes of classification and detection decisions; a failed gate is `QUALITY_FAILED:<check>` as for documents. */
export const MODEL_REASON_CODES = {
  qualityFailed: REASON_CODES.qualityFailed,
  /** The top label (or a box) scored under acceptAbove. */
  lowConfidence: 'LOW_CONFIDENCE',
  /** The top label scored under rejectBelow: the image shows none of the classes the model knows, or not clearly. */
  belowReject: 'BELOW_REJECT_THRESHOLD',
  /** A label the manifest sends to a person whatever its score. */
  reviewLabel: 'REVIEW_LABEL',
  /** The detector found nothing above its score threshold. */
  noObjects: 'NO_OBJECTS',
} as const;

const score = (value: number) => value.toFixed(2);

/**
 * Routes a classified image: reject when the gate failed or the top label scores under
 * `rejectBelow`; review when it scores under `acceptAbove` or is a label always reviewed; else accept.
 *
 * @example decideClassification(report, { labels: [{ label: 'scratch', score: 0.62 }] }, { acceptAbove: 0.9, rejectBelow: 0.3, alwaysReview: [] })
 * // { decision: 'review', reasons: [{ code: 'LOW_CONFIDENCE', message: 'The top label "scratch" scored 0.62 ...' }] }
 */
export function decideClassification(quality: QualityReport, result: { labels: LabelScore[] } | null, rule: ModelDecisionRule): DecisionOutcome {
  if (quality.verdict === 'fail') return { decision: 'reject', reasons: qualityReasons(quality) };
  const top = result?.labels[0];
  if (top === undefined) return { decision: 'review', reasons: [{ code: MODEL_REASON_CODES.lowConfidence, message: 'The model gave no label: a person should classify the image.' }] };
  if (top.score < rule.rejectBelow) {
    return {
      decision: 'reject',
      reasons: [{ code: MODEL_REASON_CODES.belowReject, message: `The top label ${JSON.stringify(top.label)} scored ${score(top.score)}, under the reject threshold ${rule.rejectBelow}: the image shows none of the known classes clearly.` }],
    };
  }
  const reasons: DecisionReason[] = [];
  if (top.score < rule.acceptAbove) {
    reasons.push({ code: MODEL_REASON_CODES.lowConfidence, message: `The top label ${JSON.stringify(top.label)} scored ${score(top.score)}, under the accept threshold ${rule.acceptAbove}: a person should confirm it.` });
  }
  if (rule.alwaysReview.includes(top.label)) {
    reasons.push({ code: MODEL_REASON_CODES.reviewLabel, message: `${JSON.stringify(top.label)} is a label a person always checks (decision.alwaysReview).` });
  }
  return { decision: reasons.length > 0 ? 'review' : 'accept', reasons };
}

/**
 * Routes a detection result: reject when the gate failed; review when any box scores under
 * `acceptAbove` or has a label always reviewed (one reason per box, numbered best first); an
 * image with no box is accepted with the reason NO_OBJECTS, unless `reviewEmpty`.
 */
export function decideDetection(quality: QualityReport, result: { boxes: DetectedBox[] } | null, rule: ModelDecisionRule & { reviewEmpty?: boolean }): DecisionOutcome {
  if (quality.verdict === 'fail') return { decision: 'reject', reasons: qualityReasons(quality) };
  const boxes = result?.boxes ?? [];
  if (boxes.length === 0) {
    return { decision: rule.reviewEmpty === true ? 'review' : 'accept', reasons: [{ code: MODEL_REASON_CODES.noObjects, message: 'The detector found no object above its score threshold.' }] };
  }
  const reasons: DecisionReason[] = boxes.flatMap((box, i) => [
    ...(box.score < rule.acceptAbove
      ? [{ code: MODEL_REASON_CODES.lowConfidence, message: `Box ${i + 1} (${JSON.stringify(box.label)}) scored ${score(box.score)}, under the accept threshold ${rule.acceptAbove}: a person should confirm it.` }]
      : []),
    ...(rule.alwaysReview.includes(box.label) ? [{ code: MODEL_REASON_CODES.reviewLabel, message: `Box ${i + 1} is ${JSON.stringify(box.label)}, a label a person always checks (decision.alwaysReview).` }] : []),
  ]);
  return { decision: reasons.length > 0 ? 'review' : 'accept', reasons };
}
