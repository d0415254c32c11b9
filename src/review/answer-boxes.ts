import { z } from 'zod';
import { intersectionOverUnion, type Box } from '../core/postprocess/nms.js';
import type { DetectedBox } from '../core/records/prediction.js';
import type { ModelOutput, ReviewAnswer, ReviewedBox } from '../core/records/review.js';
import { answerBase, labelSchema, reasonSchema, refuse, refuseShape, unusableAnswer } from './answer-fields.js';

/** A box kept where the model drew it overlaps it by at least this much; less is a move (an override). */
export const SAME_BOX_IOU = 0.5;
/** More boxes than any image a person reviews holds; a bound on the work one answer asks for. */
const MAX_BOXES = 1000;

const coordinate = z.number().finite();
const boxAnswerSchema = z
  .object({
    verdict: z.enum(['confirm', 'correct', 'unusable']).optional(),
    /** Every object in the image as the person leaves it: the model's boxes kept, relabelled or moved, and the ones drawn. */
    boxes: z
      .array(z.object({ label: labelSchema, box: z.tuple([coordinate, coordinate, coordinate, coordinate]) }).strict())
      .max(MAX_BOXES)
      .optional(),
    reason: reasonSchema.optional(),
  })
  .strict();

const EXPECTED = '{"boxes": [{"label": "...", "box": [x1, y1, x2, y2]}]} (every object, in image pixels), {"verdict": "confirm"} or {"verdict": "unusable", "reason": "..."}';

/**
 * A detection answer as it is kept: every box the person left. It is matched to the model's boxes
 * one to one, best overlap first; a model box with no partner overlapping it by SAME_BOX_IOU was
 * removed or moved, one whose partner has another label was relabelled (each an override), a
 * person's box with no partner was added (the model missed it).
 */
export function resolveBoxAnswer(output: ModelOutput, body: unknown, by: string, at: Date): ReviewAnswer {
  const parsed = boxAnswerSchema.safeParse(body);
  if (!parsed.success) refuseShape(parsed.error, EXPECTED);
  const { verdict, boxes } = parsed.data;
  const base = answerBase(by, at);
  const unusable = unusableAnswer(parsed.data, 'boxes', boxes !== undefined, base);
  if (unusable !== null) return unusable;
  const model = output.boxes ?? [];
  const left: ReviewedBox[] = boxes ?? (verdict === 'confirm' ? model.map(({ label, box }) => ({ label, box })) : refuse('BOXES_MISSING', 'Send every object as "boxes" (an empty list when there is none), or verdict "confirm" to keep the model\'s boxes.'));
  left.forEach((reviewed, index) => checkBox(reviewed.box, index, output));
  const { changed, added } = compareBoxes(model, left);
  const changes = changed + added > 0;
  if (verdict === 'confirm' && changes) refuse('CONFIRM_CHANGES', `"confirm" keeps the model's ${model.length} boxes as they are: send the boxes without a verdict to correct them.`);
  if (verdict === 'correct' && !changes) refuse('CORRECTION_CHANGES_NOTHING', 'These boxes are the model\'s own: send verdict "confirm", or the boxes as they should be.');
  return { ...base, verdict: changes ? 'correct' : 'confirm', boxes: left, reason: null, linesReviewed: model.length, linesChanged: changed, boxesAdded: added };
}

function checkBox([x1, y1, x2, y2]: Box, index: number, output: ModelOutput): void {
  const where = { box: index };
  if (!(x2 > x1 && y2 > y1)) refuse('BOX_EMPTY', `Box ${index} has no area: send [x1, y1, x2, y2] with x2 > x1 and y2 > y1.`, where);
  if (x1 < 0 || y1 < 0 || x2 > output.width || y2 > output.height) {
    refuse('BOX_OUTSIDE_IMAGE', `Box ${index} reaches outside the ${output.width} x ${output.height} image: keep it within 0..${output.width} and 0..${output.height}.`, where);
  }
}

/** The model's boxes removed, moved or relabelled, and the person's boxes that match none of them. */
export function compareBoxes(model: readonly DetectedBox[], reviewed: readonly ReviewedBox[]): { changed: number; added: number } {
  const pairs: { m: number; r: number; iou: number }[] = [];
  model.forEach((m, mi) =>
    reviewed.forEach((r, ri) => {
      const iou = intersectionOverUnion(m.box, r.box);
      if (iou >= SAME_BOX_IOU) pairs.push({ m: mi, r: ri, iou });
    }),
  );
  pairs.sort((a, b) => b.iou - a.iou);
  const modelPartner = new Map<number, number>();
  const reviewedMatched = new Set<number>();
  for (const pair of pairs) {
    if (modelPartner.has(pair.m) || reviewedMatched.has(pair.r)) continue;
    modelPartner.set(pair.m, pair.r);
    reviewedMatched.add(pair.r);
  }
  let changed = 0;
  model.forEach((m, mi) => {
    const partner = modelPartner.get(mi);
    if (partner === undefined || reviewed[partner].label !== m.label) changed++;
  });
  return { changed, added: reviewed.length - reviewedMatched.size };
}
