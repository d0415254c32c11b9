import { outputTask, type ReviewAnswer, type ReviewTask } from '../core/records/review.js';
import { answerBodySchema, resolveAnswer } from './answer.js';
import { refuseShape } from './answer-fields.js';
import { resolveBoxAnswer } from './answer-boxes.js';
import { resolveLabelAnswer } from './answer-labels.js';

const DOCUMENT_EXPECTED = '{"verdict": "confirm" | "correct" | "unusable", "lines"?: [{"index", "text"}], "added"?: [{"box", "text"}], "removed"?: [index], "reason"?}';

/**
 * The body of `POST /v1/reviews/:id/answer`, checked against the kind of task it answers and
 * resolved into the answer kept: a document's lines, a classification's label, a detection's boxes.
 */
export function resolveTaskAnswer(task: ReviewTask, body: unknown, by: string, at: Date): ReviewAnswer {
  switch (outputTask(task.modelOutput)) {
    case 'classification':
      return resolveLabelAnswer(task.modelOutput, body, by, at);
    case 'detection':
      return resolveBoxAnswer(task.modelOutput, body, by, at);
    case 'document': {
      const parsed = answerBodySchema.safeParse(body);
      if (!parsed.success) refuseShape(parsed.error, DOCUMENT_EXPECTED);
      return resolveAnswer(task, parsed.data, by, at);
    }
  }
}
