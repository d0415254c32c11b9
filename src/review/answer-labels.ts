import { z } from 'zod';
import type { ModelOutput, ReviewAnswer } from '../core/records/review.js';
import { answerBase, labelSchema, reasonSchema, refuse, refuseShape, unusableAnswer } from './answer-fields.js';

/** The body of an answer to a classification task. */
const labelAnswerSchema = z
  .object({
    /** Optional: the label decides it (the model's top label confirms, another corrects). */
    verdict: z.enum(['confirm', 'correct', 'unusable']).optional(),
    /** The right label: one of the model's candidates, another known label, or a new one. */
    label: labelSchema.optional(),
    reason: reasonSchema.optional(),
  })
  .strict();

const EXPECTED = '{"label": "<the right label>"}, {"verdict": "confirm"} or {"verdict": "unusable", "reason": "..."}';

/**
 * A classification answer as it is kept: the label the person chose, `correct` when it is not the
 * model's top label. One label is reviewed per task; changing it is an override.
 */
export function resolveLabelAnswer(output: ModelOutput, body: unknown, by: string, at: Date): ReviewAnswer {
  const parsed = labelAnswerSchema.safeParse(body);
  if (!parsed.success) refuseShape(parsed.error, EXPECTED);
  const { verdict, label } = parsed.data;
  const base = answerBase(by, at);
  const unusable = unusableAnswer(parsed.data, 'label', label !== undefined, base);
  if (unusable !== null) return unusable;
  const top = output.labels?.[0]?.label;
  const chosen = label ?? (verdict === 'confirm' ? top : undefined);
  if (chosen === undefined) {
    refuse('LABEL_MISSING', top === undefined ? 'The model gave no label: send the right one as "label".' : `Send the right label as "label" (the model's is "${top}"), or verdict "confirm" to keep it.`);
  }
  const changed = chosen !== top;
  if (verdict === 'confirm' && changed) refuse('CONFIRM_CHANGES', `"confirm" keeps the model's label "${top}": send only "label": "${chosen}" to correct it.`);
  if (verdict === 'correct' && !changed) refuse('CORRECTION_CHANGES_NOTHING', `"${chosen}" is the model's own label: send verdict "confirm", or the right label.`);
  return { ...base, verdict: changed ? 'correct' : 'confirm', label: chosen, reason: null, linesReviewed: 1, linesChanged: changed ? 1 : 0 };
}
