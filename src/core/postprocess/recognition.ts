import type { Frame } from '../frame.js';
import type { PreprocessSpec } from '../preprocess/spec.js';
import { resizedSize, toTensorBatch } from '../preprocess/tensor.js';
import { inCharacterContext } from '../text/tokens.js';
import type { Spelling } from '../text/spelling.js';
import { CTC_STEP_FIELDS, ctcDecodeSteps, ctcStepSummary, type CtcOptions } from './ctc.js';

/** One text line as the recogniser read it. */
export interface LineReading {
  text: string;
  confidence: number;
}

/**
 * The recognition spec with the crop's padding widened to the next multiple of `bucketWidth`
 * (never under the spec's own padding width): the crop's width bucket. The server pads each crop
 * to its bucket so crops of similar width share a batch; a device pads alike so a crop reads the same.
 */
export function bucketed(crop: Frame, spec: PreprocessSpec, bucketWidth: number): PreprocessSpec {
  if (spec.padding === undefined) return spec;
  const vertical = spec.margin === undefined ? 0 : Math.round(crop.height * spec.margin.vertical);
  const horizontal = spec.margin === undefined ? 0 : Math.round(crop.height * spec.margin.horizontal);
  const { width } = resizedSize(crop.width + 2 * horizontal, crop.height + 2 * vertical, spec.resize);
  const bucket = Math.max(spec.padding.width ?? 0, Math.ceil(width / bucketWidth) * bucketWidth);
  return { ...spec, padding: { ...spec.padding, width: bucket } };
}

/**
 * One line's CTC step summary (`ctcStepSummary`, [1, steps, CTC_STEP_FIELDS]) decoded, words
 * misread by one character set right when `spelling` is given, each token read in its character
 * class's context (src/core/text/tokens.ts).
 */
export function decodeLine(summary: Float32Array, steps: number, alphabet: string[], options: CtcOptions, spelling?: Spelling): LineReading {
  const decoded = ctcDecodeSteps(summary, 1, steps, alphabet, options, spelling)[0];
  return { text: inCharacterContext(decoded.text), confidence: decoded.confidence };
}

/** Whether a reading counts as text: read with at least `dropScore` confidence (the pipeline's `recognition.dropScore`), and more than spaces. The rest is noise. */
export function keptReading(reading: LineReading, dropScore: number): boolean {
  return reading.confidence >= dropScore && reading.text.trim() !== '';
}

/** A CTC recogniser's probabilities ([1, steps, classes]) for one input tensor, however the device runs it. */
export type RecognizerRun = (tensor: { data: Float32Array; dims: number[] }) => Promise<{ data: Float32Array; dims: readonly number[] }>;

export interface LineReader {
  spec: PreprocessSpec;
  /** The CTC alphabet, the blank first. */
  alphabet: string[];
  /** The decoding options: the model's post-processing with the pipeline's `recognition.spaceBoost` when set. */
  options: CtcOptions;
  bucketWidth: number;
  /** The spelling pass, as the pipeline's `recognition.spelling` sets it; none reads as the model wrote. */
  spelling?: Spelling;
}

/**
 * Each crop read as the server's document pipeline reads a line: padded to its width bucket, one
 * crop a run, its probabilities summarised and decoded by the same functions. A device reads its
 * crops with this.
 */
export async function readCrops(crops: Frame[], run: RecognizerRun, reader: LineReader): Promise<LineReading[]> {
  const readings: LineReading[] = [];
  for (const crop of crops) {
    const input = toTensorBatch([crop], bucketed(crop, reader.spec, reader.bucketWidth));
    const output = await run(input);
    const [, steps, classes] = output.dims;
    const summary = ctcStepSummary(output.data, 1, steps, classes, reader.alphabet);
    readings.push(decodeLine(summary, summary.length / CTC_STEP_FIELDS, reader.alphabet, reader.options, reader.spelling));
  }
  return readings;
}
