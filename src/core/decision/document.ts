import type { QualityReport } from '../quality/types.js';
import type { Decision, DecisionReason } from '../records/prediction.js';

export interface DecisionOutcome {
  decision: Decision;
  reasons: DecisionReason[];
}

/**
 * What the decision reads of a document result. The pipeline's `DocumentResult` has this shape;
 * it is declared here because core imports nothing from the layers above it.
 */
export interface ReadText {
  lines: ReadonlyArray<{ text: string; confidence: number }>;
  /** Text found on the page but not read (too unsure to keep): the page goes to a person. */
  unreadLines?: number;
}

export interface DocumentDecisionOptions {
  /** A line read with less confidence than this sends the page to review. */
  reviewThreshold: number;
}

/** Stable reason codes; a failed gate check adds its name: `QUALITY_FAILED:blur`. */
export const REASON_CODES = {
  qualityFailed: 'QUALITY_FAILED',
  lowConfidence: 'LOW_CONFIDENCE',
  unreadLines: 'UNREAD_LINES',
  noText: 'NO_TEXT',
} as const;

/** Lines longer than this are shortened in reason messages; the record keeps the full text. */
const QUOTE_LENGTH = 40;

/**
 * Routes a read page: reject when the gate failed (each failing check with its guidance), review
 * when any line is read with less confidence than the threshold, when text was found that could
 * not be read at all, or when no text was found; else accept.
 *
 * @example
 * const { decision, reasons } = decideDocument(report, result, { reviewThreshold: 0.8 });
 * // decision 'review', reasons [{ code: 'LOW_CONFIDENCE', message: 'Line 3 "Total 12.0O" was read with confidence 0.62 ...' }]
 */
export function decideDocument(quality: QualityReport, result: ReadText | null, options: DocumentDecisionOptions): DecisionOutcome {
  if (quality.verdict === 'fail') return { decision: 'reject', reasons: qualityReasons(quality) };
  if (result === null || (result.lines.length === 0 && (result.unreadLines ?? 0) === 0)) {
    return {
      decision: 'review',
      reasons: [{ code: REASON_CODES.noText, message: 'No text was found on the image: a person should check what it shows.' }],
    };
  }
  const reasons: DecisionReason[] = result.lines.flatMap((line, index) =>
    line.confidence < options.reviewThreshold
      ? [
          {
            code: REASON_CODES.lowConfidence,
            message:
              `Line ${index + 1} ${JSON.stringify(quote(line.text))} was read with confidence ${line.confidence.toFixed(2)}, ` +
              `below the review threshold ${options.reviewThreshold}: a person should confirm it.`,
          },
        ]
      : [],
  );
  const unread = result.unreadLines ?? 0;
  if (unread > 0) {
    reasons.push({
      code: REASON_CODES.unreadLines,
      message: `${unread} ${unread === 1 ? 'line was' : 'lines were'} found on the page but could not be read (a stamp, a smudge or a fold across it?): a person should read ${unread === 1 ? 'it' : 'them'}.`,
    });
  }
  return { decision: reasons.length > 0 ? 'review' : 'accept', reasons };
}

/** Each failing gate check as a reason, with its guidance: `QUALITY_FAILED:blur`. */
export function qualityReasons(quality: QualityReport): DecisionReason[] {
  const failed = quality.checks.filter((check) => check.verdict === 'fail');
  if (failed.length === 0) {
    return [{ code: REASON_CODES.qualityFailed, message: quality.guidance[0] ?? 'The image failed the quality gate: capture it again.' }];
  }
  return failed.map((check) => ({
    code: `${REASON_CODES.qualityFailed}:${check.name}`,
    message: check.guidance ?? `The ${check.name} check scored ${check.score} against the threshold ${check.threshold}: capture the image again.`,
  }));
}

function quote(text: string): string {
  return text.length <= QUOTE_LENGTH ? text : `${text.slice(0, QUOTE_LENGTH - 1)}…`;
}
