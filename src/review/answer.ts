import { z } from 'zod';
import { VisionopsError } from '../core/errors.js';
import type { Quad } from '../core/postprocess/geometry.js';
import type { AnsweredLine, ReviewAnswer, ReviewTask } from '../core/records/review.js';

const MAX_LINE_CHARS = 2000;
const point = z.tuple([z.number().finite(), z.number().finite()]);

/** The body of `POST /v1/reviews/:id/answer`. */
export const answerBodySchema = z
  .object({
    verdict: z.enum(['confirm', 'correct', 'unusable']),
    /** The lines whose text the person changed, by their index in the model's output. */
    lines: z.array(z.object({ index: z.number().int().min(0), text: z.string().max(MAX_LINE_CHARS) }).strict()).optional(),
    /** Lines the model missed: a box (four corners, clockwise from top-left) and the text. */
    added: z.array(z.object({ box: z.tuple([point, point, point, point]), text: z.string().min(1).max(MAX_LINE_CHARS) }).strict()).optional(),
    /** Indexes of the model's lines that are not text. */
    removed: z.array(z.number().int().min(0)).optional(),
    /** Why the image is unusable: `blurry`, `wrong-document`, `glare`, or a few words. */
    reason: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

export type AnswerBody = z.infer<typeof answerBodySchema>;

/**
 * The answer as it is kept: every model line with the text the person left, the counts the
 * statistics need, who and when. Throws INVALID_REQUEST when the body does not fit its verdict or
 * the task (a line index the model never read, a line both edited and removed...).
 */
export function resolveAnswer(task: ReviewTask, body: AnswerBody, by: string, at: Date): ReviewAnswer {
  const modelLines = task.modelOutput.lines;
  const edits = body.lines ?? [];
  const added = body.added ?? [];
  const removed = [...new Set(body.removed ?? [])].sort((a, b) => a - b);
  const base = { added, removed, by, at: at.toISOString() };

  if (body.verdict === 'unusable') {
    if (body.reason === undefined) invalid('An "unusable" answer needs a "reason", such as "blurry", "wrong-document" or "glare".');
    if (edits.length + added.length + removed.length > 0) invalid('An "unusable" answer carries only a "reason": drop "lines", "added" and "removed".');
    return { ...base, verdict: 'unusable', lines: [], reason: body.reason ?? null, linesReviewed: 0, linesChanged: 0 };
  }
  if (body.reason !== undefined) invalid(`A "${body.verdict}" answer has no "reason": only "unusable" does.`);
  if (body.verdict === 'confirm' && edits.length + added.length + removed.length > 0) {
    invalid('A "confirm" answer keeps the model\'s output as it is: send verdict "correct" with the changes instead.');
  }

  const texts = modelLines.map((line) => line.text);
  const seen = new Set<number>();
  for (const edit of edits) {
    const where = `line ${edit.index}`;
    if (edit.index >= modelLines.length) invalid(`There is no ${where}: the model read ${modelLines.length} lines (indexes 0 to ${modelLines.length - 1}).`);
    if (seen.has(edit.index)) invalid(`${capital(where)} is corrected twice: send one text per line.`);
    if (removed.includes(edit.index)) invalid(`${capital(where)} is both corrected and removed: send one or the other.`);
    seen.add(edit.index);
    texts[edit.index] = edit.text;
  }
  for (const index of removed) {
    if (index >= modelLines.length) invalid(`There is no line ${index} to remove: the model read ${modelLines.length} lines.`);
  }

  const lines: AnsweredLine[] = modelLines.map((line, index) => ({ index, modelText: line.text, text: texts[index] }));
  const changed = lines.filter((line) => removed.includes(line.index) || line.text !== line.modelText).length;
  if (body.verdict === 'correct' && changed + added.length === 0) {
    invalid('This correction changes nothing: send verdict "confirm", or the lines with their new text.');
  }
  return { ...base, verdict: body.verdict, lines, reason: null, linesReviewed: modelLines.length, linesChanged: changed };
}

/** One line of training data: where it is, the text a person approved, what the model read (null for lines it missed). */
export interface LabelledLine {
  box: Quad;
  text: string;
  modelText: string | null;
  corrected: boolean;
}

/** The lines a dataset should learn from: the model's lines as the person left them, removed ones dropped, added ones last. */
export function labelledLines(task: ReviewTask): LabelledLine[] {
  const answer = task.answer;
  if (answer === null || answer.verdict === 'unusable') return [];
  const kept = answer.lines
    .filter((line) => !answer.removed.includes(line.index))
    .map((line) => ({ box: task.modelOutput.lines[line.index].box, text: line.text, modelText: line.modelText, corrected: line.text !== line.modelText }));
  return [...kept, ...answer.added.map((line) => ({ box: line.box, text: line.text, modelText: null, corrected: true }))];
}

function invalid(message: string): never {
  throw new VisionopsError('INVALID_REQUEST', message);
}

function capital(text: string): string {
  return text[0].toUpperCase() + text.slice(1);
}
