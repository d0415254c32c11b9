import type { QualityReport } from '../quality/types.js';

/** A line of model output as the monitor reads it. */
export interface ReadLine {
  text: string;
  confidence: number;
}

/** What the monitor learns of one image: enough for drift, outliers and rates, nothing that names a person. */
export interface MonitorObservation {
  quality: QualityReport;
  /** Lines read by the models; null when no model ran (the gate refused the image). */
  lines: ReadLine[] | null;
  decision: 'accept' | 'review' | 'reject';
  /** `describeFrame` of the decoded image. */
  descriptor: number[];
}

/** Exposure measurements watched beside the checks' scores: where the light moved, in luma levels. */
const EXPOSURE_DETAILS = ['meanLuma', 'paperLevel', 'inkLevel', 'shadowFraction', 'highlightFraction'] as const;

/**
 * The scalar features whose distributions drift is judged on: every gate score
 * (`quality.<check>`), the exposure levels (`exposure.<level>`), the model's confidence
 * (`confidence.mean`, `confidence.min`) and the shape of its output (`output.lines`,
 * `output.charsPerLine`, `output.<class>Share` for digits, letters, punctuation and spaces).
 * A feature the image does not have (no output when the gate refused it) is left out.
 */
export function scalarFeatures(observation: MonitorObservation): Record<string, number> {
  const features: Record<string, number> = {};
  for (const check of observation.quality.checks) {
    features[`quality.${check.name}`] = check.score;
    if (check.name === 'exposure' && check.details !== undefined) {
      for (const key of EXPOSURE_DETAILS) {
        const value = check.details[key];
        if (typeof value === 'number' && Number.isFinite(value)) features[`exposure.${key}`] = value;
      }
    }
  }
  const lines = observation.lines;
  if (lines === null) return features;
  features['output.lines'] = lines.length;
  if (lines.length === 0) return features;
  let confidenceSum = 0;
  let confidenceMin = 1;
  let characters = 0;
  const classes = { digit: 0, letter: 0, punctuation: 0, space: 0 };
  for (const line of lines) {
    confidenceSum += line.confidence;
    confidenceMin = Math.min(confidenceMin, line.confidence);
    for (const char of line.text) {
      characters++;
      if (/\p{Nd}/u.test(char)) classes.digit++;
      else if (/\p{L}/u.test(char)) classes.letter++;
      else if (/\s/u.test(char)) classes.space++;
      else classes.punctuation++;
    }
  }
  features['confidence.mean'] = confidenceSum / lines.length;
  features['confidence.min'] = confidenceMin;
  features['output.charsPerLine'] = characters / lines.length;
  const total = Math.max(1, characters);
  for (const [name, count] of Object.entries(classes)) features[`output.${name}Share`] = count / total;
  return features;
}
