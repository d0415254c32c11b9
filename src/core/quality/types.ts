export type Verdict = 'pass' | 'warn' | 'fail';

/** One finding of the gate. `guidance` is a sentence the person holding the camera can act on. */
export interface QualityCheck {
  name: string;
  score: number;
  threshold: number;
  verdict: Verdict;
  guidance: string | null;
  /** Measurements behind the score (e.g. shadow and highlight fractions), for dashboards and drift. */
  details?: Record<string, number>;
}

export interface QualityReport {
  /** The worst verdict of any check: a `fail` stops the image before any model runs. */
  verdict: Verdict;
  checks: QualityCheck[];
  /** The guidance of every check that did not pass, worst first. */
  guidance: string[];
}
