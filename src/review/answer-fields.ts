import { z } from 'zod';
import { VisionopsError } from '../core/errors.js';

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
