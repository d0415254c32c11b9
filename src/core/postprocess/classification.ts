import { VisionopsError } from '../errors.js';

export interface TopClass {
  label: string;
  index: number;
  /** The winning score as the model gave it (a probability when the model ends in a softmax). */
  confidence: number;
}

/** The highest-scoring class; the first one wins a tie, as numpy's argmax. */
export function topClass(scores: Float32Array | number[], labels: string[]): TopClass {
  if (scores.length === 0 || scores.length !== labels.length) {
    throw new VisionopsError(
      'INFERENCE_FAILED',
      `The classifier gave ${scores.length} scores for ${labels.length} labels: the labels must list every class of the model, in its output order.`,
      { scores: scores.length, labels: labels.length },
    );
  }
  let index = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[index]) index = i;
  return { label: labels[index], index, confidence: scores[index] };
}
