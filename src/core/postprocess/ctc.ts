import { VisionopsError } from '../errors.js';

export interface DecodedText {
  text: string;
  /** Mean of the kept characters' probabilities; 0 when nothing was read. */
  confidence: number;
}

function checkShape(probs: Float32Array, batch: number, steps: number, classes: number, dictionary: string[]): void {
  if (probs.length !== batch * steps * classes) {
    throw new VisionopsError(
      'INFERENCE_FAILED',
      `The recognition output holds ${probs.length} values, not ${batch} x ${steps} x ${classes}: pass batch, steps and classes from the output tensor's dims.`,
      { length: probs.length, batch, steps, classes },
    );
  }
  if (dictionary.length < classes) {
    throw new VisionopsError(
      'INFERENCE_FAILED',
      `The recognition model has ${classes} classes but the dictionary only ${dictionary.length} entries: use the dictionary that ships with the model, with the blank first (and PaddleOCR's trailing space).`,
      { classes, dictionary: dictionary.length },
    );
  }
}

/** Greedy CTC over one sequence starting at `offset`: PaddleOCR's CTCLabelDecode. */
function decodeAt(probs: Float32Array, offset: number, steps: number, classes: number, dictionary: string[]): DecodedText {
  const characters: string[] = [];
  let sum = 0;
  let previous = -1;
  for (let t = 0, base = offset; t < steps; t++, base += classes) {
    let best = 0;
    let bestProb = probs[base];
    for (let c = 1; c < classes; c++) {
      if (probs[base + c] > bestProb) {
        bestProb = probs[base + c];
        best = c;
      }
    }
    // Class 0 is the blank: it ends a run of the same class, which is how double letters survive.
    if (best !== 0 && best !== previous) {
      characters.push(dictionary[best]);
      sum += bestProb;
    }
    previous = best;
  }
  return { text: characters.join(''), confidence: characters.length === 0 ? 0 : sum / characters.length };
}

/**
 * Greedy CTC decoding of one [steps, classes] probability matrix (already a softmax, as PP-OCRv4's
 * recogniser outputs): the most probable class per step, repeats collapsed, blanks dropped.
 * `dictionary[0]` is the blank; PaddleOCR's is ['blank', ...lines of ppocr_keys_v1.txt, ' '].
 * The confidence is PaddleOCR's: the mean of the probability of each kept character (the first step
 * of its run), 0 when the line reads empty.
 */
export function ctcGreedyDecode(probs: Float32Array, steps: number, classes: number, dictionary: string[]): DecodedText {
  checkShape(probs, 1, steps, classes, dictionary);
  return decodeAt(probs, 0, steps, classes, dictionary);
}

/** `ctcGreedyDecode` over a batched [batch, steps, classes] output, one result per crop. */
export function ctcGreedyDecodeBatch(probs: Float32Array, batch: number, steps: number, classes: number, dictionary: string[]): DecodedText[] {
  checkShape(probs, batch, steps, classes, dictionary);
  const results: DecodedText[] = [];
  for (let n = 0; n < batch; n++) results.push(decodeAt(probs, n * steps * classes, steps, classes, dictionary));
  return results;
}
