import { z } from 'zod';
import { VisionopsError } from '../core/errors.js';
import type { ReviewAnswer, Verdict } from '../core/records/review.js';

/** Longest label a person may type: a class name, not a description. */
const MAX_LABEL_CHARS = 100;

/** A label as a person types it: trimmed, one line, not empty. */
export const labelSchema = z
  .string()
  .trim()
  .min(1)
  .max(MAX_LABEL_CHARS)
  .regex(/^[^\p{Cc}]*$/u, 'no control characters');

/** Why an image is unusable: `blurry`, `wrong-document`, `glare`, or a few words. */
export const reasonSchema = z.string().trim().min(1).max(200);

/**
 * A refused answer: INVALID_REQUEST (400) with `details.problem`, a stable name for what was
 * wrong (`LABEL_MISSING`, `BOX_OUTSIDE_IMAGE`, ...), sent as `error.problem`, that a client can act on without parsing the message.
 */
export function refuse(problem: string, message: string, details: Record<string, unknown> = {}): never {
  throw new VisionopsError('INVALID_REQUEST', message, { problem, ...details });
}

/** A zod failure as one refusal naming every key that did not fit and the shape expected. */
export function refuseShape(error: z.ZodError, expected: string): never {
  const issues = error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
  refuse('BAD_SHAPE', `Bad answer (${issues}): send JSON ${expected}.`);
}

/** What a label or box answer keeps besides its own field: who and when, the document fields empty. */
export function answerBase(by: string, at: Date): Pick<ReviewAnswer, 'lines' | 'added' | 'removed' | 'by' | 'at'> {
  return { lines: [], added: [], removed: [], by, at: at.toISOString() };
}

/**
 * The rules of `unusable` shared by label and box answers: it needs a reason and carries nothing
 * else (`field`, the task's own answer field, must be absent), and only it has a reason. The kept
 * answer when the verdict is `unusable`, else null.
 */
export function unusableAnswer(body: { verdict?: Verdict; reason?: string }, field: 'label' | 'boxes', carried: boolean, base: ReturnType<typeof answerBase>): ReviewAnswer | null {
  if (body.verdict !== 'unusable') {
    if (body.reason !== undefined) refuse('REASON_NOT_UNUSABLE', 'Only an "unusable" answer has a "reason": drop it, or send verdict "unusable".');
    return null;
  }
  if (body.reason === undefined) refuse('REASON_MISSING', 'An "unusable" answer needs a "reason", such as "blurry", "glare" or "wrong-object".');
  if (carried) refuse(field === 'label' ? 'UNUSABLE_WITH_LABEL' : 'UNUSABLE_WITH_BOXES', `An "unusable" answer carries only a "reason": drop "${field}".`);
  return { ...base, verdict: 'unusable', reason: body.reason, linesReviewed: 0, linesChanged: 0, ...(field === 'boxes' ? { boxesAdded: 0 } : {}) };
}
