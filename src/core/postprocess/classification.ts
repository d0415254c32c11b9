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

export interface LabelScore {
  label: string;
  index: number;
  score: number;
}

/** How a classifier's raw outputs become scores: one softmax over the classes, a sigmoid each (multi-label), or as given. */
export type ScoreActivation = 'softmax' | 'sigmoid' | 'none';

/** Softmax with the maximum subtracted first, so large logits do not overflow to Infinity. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const out = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - max);
    total += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

export function sigmoid(logits: ArrayLike<number>): Float64Array {
  return Float64Array.from(logits, (x) => 1 / (1 + Math.exp(-x)));
}

/**
 * The `k` best classes, best first; equal scores keep the model's order. The raw outputs go
 * through `activation` first: a model exported with its softmax inside wants 'none'.
 *
 * @example rankClasses(logits, ['ok', 'scratch', 'dent'], 'softmax', 2) // [{ label: 'scratch', index: 1, score: 0.91 }, ...]
 */
export function rankClasses(outputs: ArrayLike<number>, labels: string[], activation: ScoreActivation, k = labels.length): LabelScore[] {
  if (outputs.length === 0 || outputs.length !== labels.length) {
    throw new VisionopsError(
      'INFERENCE_FAILED',
      `The classifier gave ${outputs.length} scores for ${labels.length} labels: the labels must list every class of the model, in its output order.`,
      { scores: outputs.length, labels: labels.length },
    );
  }
  const scores = activation === 'softmax' ? softmax(outputs) : activation === 'sigmoid' ? sigmoid(outputs) : Float64Array.from(outputs);
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, Math.max(0, k)).map((index) => ({ label: labels[index], index, score: scores[index] }));
}
