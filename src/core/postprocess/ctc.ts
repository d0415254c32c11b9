import { VisionopsError } from '../errors.js';
import { spellWords, type Alternative, type ReadCharacter, type Spelling } from '../text/spelling.js';

export interface DecodedText {
  text: string;
  /** Mean of the probabilities of the characters the model chose; 0 when nothing was read. */
  confidence: number;
}

export interface CtcOptions {
  /**
   * How many times the space class's probability is multiplied before it is compared with the
   * blank's, on steps between two characters. 1 (the default) is plain greedy decoding. PaddleOCR's
   * Chinese-and-English recogniser rarely lets the space win a step even where words clearly part
   * (PaddleOCR issue 11386); between words its space probability rises to 0.01-0.3 while inside
   * a word it stays near 0.001, so a boost near 100 restores the word breaks it saw.
   */
  spaceBoost?: number;
  /**
   * With a boost, a boosted space is written only where the characters either side stand further
   * apart than the line's median character pitch (in steps); at the pitch only when the boosted
   * space beat the blank on two steps or more, or beside punctuation a space follows; and at any
   * gap when the space's own probability reaches this share of the blank's (default 0.3).
   * Letter-spaced receipt print and scanner noise raise the space a little, on one step, inside
   * words ("INVO ICE", "1. 44") where the pitch is an ordinary one. On a line where the model wrote
   * a space itself, a boosted one short of sure needs a gap as wide as the narrowest break the
   * model wrote (at most twice the pitch), or punctuation beside it.
   */
  sureSpace?: number;
  /**
   * Full-width forms (U+FF01..U+FF5E: `（`, `！`, `：`) next to an ASCII character become their
   * ASCII forms. A Chinese dictionary holds both widths of the punctuation, which look alike in a
   * crop; in Latin text the full-width one is a misread, in Chinese text its neighbours are not
   * ASCII and it stays.
   */
  asciiForms?: boolean;
}

const FULL_WIDTH_FIRST = 0xff01;
const FULL_WIDTH_LAST = 0xff5e;
const FULL_WIDTH_OFFSET = 0xfee0;

function isAscii(character: string | undefined): boolean {
  return character !== undefined && character.charCodeAt(0) < 0x7f;
}

/** The nearest character that is not a space, from `from` stepping by `step`. */
function nearestInk(characters: ReadCharacter[], from: number, step: 1 | -1): string | undefined {
  for (let i = from; i >= 0 && i < characters.length; i += step) if (characters[i].character !== ' ') return characters[i].character;
  return undefined;
}

function asciiFormsBesideAscii(characters: ReadCharacter[]): void {
  for (let i = 0; i < characters.length; i++) {
    const code = characters[i].character.charCodeAt(0);
    if (code < FULL_WIDTH_FIRST || code > FULL_WIDTH_LAST) continue;
    if (isAscii(nearestInk(characters, i - 1, -1)) || isAscii(nearestInk(characters, i + 1, 1))) characters[i] = { character: String.fromCharCode(code - FULL_WIDTH_OFFSET) };
  }
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

/** The space's class: PaddleOCR's alphabet ends with it; -1 when the alphabet has none. */
function spaceClass(dictionary: string[], classes: number): number {
  return dictionary.lastIndexOf(' ', classes - 1);
}

/** Numbers per step in a `ctcStepSummary`: the most probable class, its probability, the space's, the runner-up class and its probability. */
export const CTC_STEP_FIELDS = 5;

/**
 * All that greedy decoding reads of a [batch, steps, classes] probability matrix, per step: the
 * most probable class, its probability (the blank's, when the blank wins), the space's (0
 * without a space class), and the runner-up class with its probability (what spelling may read
 * instead). Five numbers a step instead of 6,625: an inference worker sends this, not the matrix,
 * back to the thread that decodes.
 */
export function ctcStepSummary(probs: Float32Array, batch: number, steps: number, classes: number, dictionary: string[]): Float32Array {
  checkShape(probs, batch, steps, classes, dictionary);
  const space = spaceClass(dictionary, classes);
  const summary = new Float32Array(batch * steps * CTC_STEP_FIELDS);
  for (let row = 0, base = 0, out = 0; row < batch * steps; row++, base += classes, out += CTC_STEP_FIELDS) {
    let best = 0;
    let bestProb = probs[base];
    let second = -1;
    let secondProb = 0;
    for (let c = 1; c < classes; c++) {
      const prob = probs[base + c];
      if (prob > bestProb) {
        second = best;
        secondProb = bestProb;
        best = c;
        bestProb = prob;
      } else if (second < 0 || prob > secondProb) {
        second = c;
        secondProb = prob;
      }
    }
    summary[out] = best;
    summary[out + 1] = bestProb;
    summary[out + 2] = space > 0 ? probs[base + space] : 0;
    summary[out + 3] = second;
    summary[out + 4] = secondProb;
  }
  return summary;
}

/** The sure-space share of the blank's probability when the options name none (measured in docs/real-world.md). */
const DEFAULT_SURE_SPACE = 0.3;

/**
 * A character greedy decoding kept: its class, probability and step; of the blank steps before it,
 * the space's best share of the blank and how many steps the boosted space beat the blank.
 */
interface Kept {
  cls: number;
  prob: number;
  step: number;
  spaceShare: number;
  spaceSteps: number;
  /** The best runner-up letter on its own steps, and on the blank steps before it (class -1: none). */
  instead: RunnerUp;
  before: RunnerUp;
}

interface RunnerUp {
  cls: number;
  share: number;
}

const NO_RUNNER_UP: RunnerUp = { cls: -1, share: 0 };

function alternative(runnerUp: RunnerUp, dictionary: string[]): Alternative | undefined {
  return runnerUp.cls < 0 ? undefined : { character: dictionary[runnerUp.cls], share: runnerUp.share };
}

/**
 * Whether a space between these two characters is likely even at an ordinary pitch: their narrow
 * glyphs shorten the step across a space to about one pitch. After a comma, semicolon, colon,
 * closing bracket or a full stop that is no decimal point (a digit after it), either side of a
 * dash ("43.51 - card"), and before a colon that monospaced print sets a space apart ("TOTAL :").
 */
function parts(character: string, next: string): boolean {
  return ',;:)]!?'.includes(character) || (character === '.' && !/[0-9]/.test(next)) || character === '-' || next === '-' || next === ':';
}

/**
 * The narrowest word break the model wrote itself on the line (steps between the characters either
 * side of its space), at most twice the pitch; 0 when it wrote none. Such a line shows how its
 * print parts words: a monospaced receipt by a whole character cell, proportional print by less.
 */
function ownBreak(kept: Kept[], space: number, pitch: number): number {
  let narrowest = 0;
  kept.forEach((k, i) => {
    const before = kept[i - 1];
    const after = kept[i + 1];
    if (k.cls !== space || before === undefined || after === undefined || before.cls === space || after.cls === space) return;
    const width = Math.min(2 * pitch, after.step - before.step);
    narrowest = narrowest === 0 ? width : Math.min(narrowest, width);
  });
  return narrowest;
}

/**
 * Whether a boosted space between two characters `gap` steps apart is a word break: when it is
 * sure; beside punctuation at the pitch or wider; on a line where the model wrote breaks itself,
 * only as wide as the narrowest of them (`partedAt`; a faint space narrower is letter-spacing
 * inside a word: "CHAR GE", "PARK ING"); elsewhere wider than the pitch, or at it when seen on two
 * steps.
 */
function boostedBreak(k: Kept, gap: number, pitch: number, beside: boolean, partedAt: number, sureSpace: number): boolean {
  if (k.spaceShare >= sureSpace) return true;
  if (beside) return gap >= pitch;
  if (partedAt > 0) return gap >= partedAt;
  return gap > pitch || (gap === pitch && k.spaceSteps >= 2);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? 0;
}

/**
 * Greedy CTC over one sequence of a step summary, starting at step `first`: PaddleOCR's
 * CTCLabelDecode, with the space boosted on blank steps when `spaceBoost` > 1 and full-width forms
 * made ASCII when `asciiForms` asks. A boosted space is written only between two characters, only
 * where the model wrote no space itself, and only where the gap says so too (`sureSpace`: wider
 * than the line's character pitch, seen on two steps at the pitch, beside punctuation, or sure;
 * on a line with breaks of the model's own, as wide as they are; see `boostedBreak`); it does
 * not count towards the confidence, which stays the mean of what the model chose.
 */
function decodeAt(summary: Float32Array, first: number, steps: number, space: number, dictionary: string[], options: CtcOptions, spelling?: Spelling): DecodedText {
  const spaceBoost = options.spaceBoost ?? 1;
  const sureSpace = options.sureSpace ?? DEFAULT_SURE_SPACE;
  const kept: Kept[] = [];
  let previous = -1;
  let spaceShare = 0;
  let spaceSteps = 0;
  let before = NO_RUNNER_UP;
  for (let t = 0, at = first * CTC_STEP_FIELDS; t < steps; t++, at += CTC_STEP_FIELDS) {
    const best = summary[at];
    const bestProb = summary[at + 1];
    const second = summary[at + 3];
    const share = bestProb > 0 ? summary[at + 4] / bestProb : 0;
    const secondIsCharacter = second > 0 && second !== space;
    if (best === 0 && space > 0 && bestProb > 0) {
      spaceShare = Math.max(spaceShare, summary[at + 2] / bestProb);
      if (summary[at + 2] * spaceBoost > bestProb) spaceSteps++;
    }
    if (best === 0 && secondIsCharacter && share > before.share) before = { cls: second, share };
    // Class 0 is the blank: it ends a run of the same class, which is how double letters survive.
    if (best !== 0 && best !== previous) {
      kept.push({ cls: best, prob: bestProb, step: t, spaceShare, spaceSteps, instead: NO_RUNNER_UP, before });
      spaceShare = 0;
      spaceSteps = 0;
      before = NO_RUNNER_UP;
    }
    const last = kept[kept.length - 1];
    if (best !== 0 && secondIsCharacter && second !== best && share > last.instead.share) last.instead = { cls: second, share };
    previous = best;
  }
  const pitch = median(kept.slice(1).map((k, i) => k.step - kept[i].step));
  const characters: ReadCharacter[] = [];
  let sum = 0;
  const partedAt = ownBreak(kept, space, pitch);
  kept.forEach((k, i) => {
    const before = kept[i - 1];
    if (spaceBoost > 1 && before !== undefined && k.cls !== space && before.cls !== space && k.spaceShare * spaceBoost > 1) {
      const beside = parts(dictionary[before.cls], dictionary[k.cls]);
      if (boostedBreak(k, k.step - before.step, pitch, beside, partedAt, sureSpace)) characters.push({ character: ' ' });
    }
    characters.push({ character: dictionary[k.cls], instead: alternative(k.instead, dictionary), before: alternative(k.before, dictionary) });
    sum += k.prob;
  });
  if (options.asciiForms === true) asciiFormsBesideAscii(characters);
  const text = spelling === undefined ? characters.map((c) => c.character).join('') : spellWords(characters, spelling);
  return { text, confidence: kept.length === 0 ? 0 : sum / kept.length };
}

/**
 * Greedy decoding of a `ctcStepSummary` of `batch` sequences of `steps` steps, one result per
 * sequence; with `spelling`, words misread by one character are set right (src/core/text/spelling.ts).
 */
export function ctcDecodeSteps(summary: Float32Array, batch: number, steps: number, dictionary: string[], options: CtcOptions = {}, spelling?: Spelling): DecodedText[] {
  if (summary.length !== batch * steps * CTC_STEP_FIELDS) {
    throw new VisionopsError(
      'INFERENCE_FAILED',
      `The recognition step summary holds ${summary.length} values, not ${batch} x ${steps} x ${CTC_STEP_FIELDS}: pass batch and steps from its dims.`,
      { length: summary.length, batch, steps },
    );
  }
  const space = spaceClass(dictionary, dictionary.length);
  const results: DecodedText[] = [];
  for (let n = 0; n < batch; n++) results.push(decodeAt(summary, n * steps, steps, space, dictionary, options, spelling));
  return results;
}

/**
 * Greedy CTC decoding of one [steps, classes] probability matrix (already a softmax, as PP-OCRv4's
 * recogniser outputs): the most probable class per step, repeats collapsed, blanks dropped.
 * `dictionary[0]` is the blank; PaddleOCR's is ['blank', ...lines of ppocr_keys_v1.txt, ' '].
 * The confidence is PaddleOCR's: the mean of the probability of each kept character (the first step
 * of its run), 0 when the line reads empty.
 */
export function ctcGreedyDecode(probs: Float32Array, steps: number, classes: number, dictionary: string[], options: CtcOptions = {}): DecodedText {
  return ctcGreedyDecodeBatch(probs, 1, steps, classes, dictionary, options)[0];
}

/** `ctcGreedyDecode` over a batched [batch, steps, classes] output, one result per crop. */
export function ctcGreedyDecodeBatch(probs: Float32Array, batch: number, steps: number, classes: number, dictionary: string[], options: CtcOptions = {}): DecodedText[] {
  return ctcDecodeSteps(ctcStepSummary(probs, batch, steps, classes, dictionary), batch, steps, dictionary.slice(0, classes), options);
}
