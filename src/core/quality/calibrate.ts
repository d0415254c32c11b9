import type { GateContent } from './gate-settings.js';
import type { QualityCheck, QualityReport } from './types.js';

/** A score the gate refuses below a threshold, and the two configuration keys its thresholds go in. */
interface Metric {
  /** Where the thresholds go: the scene keys of a pipeline's `gate`, or the configuration's `quality`. */
  section: string;
  /** The check and the number read from its report (null when the check did not measure it). */
  check: string;
  read(report: QualityReport): number | null;
  failKey: string;
  warnKey: string;
}

/** A check's score, null where it was not measured (too few edges to judge sharpness by: score 0, or no edge width). */
const scoreOf = (name: string, measured: (check: QualityCheck) => boolean = () => true) => (report: QualityReport) => {
  const check = report.checks.find((c) => c.name === name);
  return check === undefined || !measured(check) ? null : check.score;
};

const METRICS: Record<GateContent, Metric[]> = {
  scene: [
    { section: 'gate.scene.sharpness', check: 'sharpness', read: scoreOf('sharpness', (check) => check.score > 0), failKey: 'failBelow', warnKey: 'warnBelow' },
    {
      section: 'gate.scene.exposure',
      check: 'exposure (highlights, 98th percentile of luma)',
      read: (report) => report.checks.find((c) => c.name === 'exposure')?.details?.p98 ?? null,
      failKey: 'blackFrameBelow',
      warnKey: 'darkHighlightsBelow',
    },
  ],
  document: [
    { section: 'quality.blur', check: 'blur', read: scoreOf('blur', (check) => check.details?.edgeWidth !== undefined), failKey: 'failBelow', warnKey: 'warnBelow' },
    { section: 'quality.information', check: 'information', read: scoreOf('information'), failKey: 'minEdgeDensity', warnKey: 'minEdgeDensity' },
  ],
};

export interface CalibrationOptions {
  /** Refuse below this percentile of the good images' scores (1: one good capture in a hundred would be refused). */
  failPercentile: number;
  /** Warn below this percentile. */
  warnPercentile: number;
}

export interface ProposedThreshold {
  section: string;
  check: string;
  failKey: string;
  warnKey: string;
  fail: number;
  warn: number;
  /** How many good (and bad) images the check measured. */
  good: number;
  bad: number;
  /** Share of the good images the proposed `fail` refuses, and of the bad ones it lets through (null without bad images). */
  goodRefused: number;
  badPassed: number | null;
  /** How `fail` was chosen: a percentile of the good images, or the threshold that separates good from bad best. */
  method: 'percentile' | 'separation';
}

/**
 * Proposes gate thresholds from a team's own captures. Without bad images: refuse below the
 * `failPercentile` of the good images' scores, warn below the `warnPercentile`. With bad images:
 * refuse below the threshold that separates them best (the fewest good refused plus bad passed,
 * as shares; the lower of equals, to spare good captures), warn below the higher of that and the
 * warn percentile. Every score here is one the gate refuses below.
 */
export function proposeThresholds(content: GateContent, good: QualityReport[], bad: QualityReport[], options: CalibrationOptions): ProposedThreshold[] {
  const proposals: ProposedThreshold[] = [];
  for (const metric of METRICS[content]) {
    const goodScores = measured(good, metric);
    const badScores = measured(bad, metric);
    if (goodScores.length === 0) continue;
    const warnAt = percentile(goodScores, options.warnPercentile / 100);
    const base = { section: metric.section, check: metric.check, failKey: metric.failKey, warnKey: metric.warnKey, good: goodScores.length, bad: badScores.length };
    if (badScores.length === 0) {
      const fail = percentile(goodScores, options.failPercentile / 100);
      proposals.push({ ...base, fail, warn: Math.max(fail, warnAt), goodRefused: share(goodScores, (s) => s < fail), badPassed: null, method: 'percentile' });
      continue;
    }
    const fail = bestSeparation(goodScores, badScores);
    proposals.push({ ...base, fail, warn: Math.max(fail, warnAt), goodRefused: share(goodScores, (s) => s < fail), badPassed: share(badScores, (s) => s >= fail), method: 'separation' });
  }
  return proposals;
}

function measured(reports: QualityReport[], metric: Metric): number[] {
  return reports.map((report) => metric.read(report)).filter((score): score is number => score !== null && Number.isFinite(score));
}

/** Linear interpolation between order statistics (numpy's default). */
function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(1, Math.max(0, fraction)) * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

function share(values: number[], predicate: (value: number) => boolean): number {
  return values.filter(predicate).length / values.length;
}

/** The refusal threshold with the least total error, tried between every pair of neighbouring scores. */
function bestSeparation(good: number[], bad: number[]): number {
  const all = [...new Set([...good, ...bad])].sort((a, b) => a - b);
  const candidates = [all[0], ...all.slice(1).map((value, i) => (value + all[i]) / 2), all[all.length - 1] + 1e-9];
  let best = candidates[0];
  let bestError = Infinity;
  for (const threshold of candidates) {
    const error = share(good, (s) => s < threshold) + share(bad, (s) => s >= threshold);
    if (error < bestError - 1e-12) {
      best = threshold;
      bestError = error;
    }
  }
  return best;
}

/**
 * The proposals as JSON to paste: a pipeline's `gate` (a manifest's `gate` object) for scenes, the
 * configuration file's `quality` section for documents. A check whose two thresholds share a key
 * (information) takes the refusal threshold.
 */
export function thresholdSnippet(content: GateContent, proposals: ProposedThreshold[]): Record<string, unknown> {
  const root: Record<string, unknown> = content === 'scene' ? { gate: { content: 'scene' } } : {};
  for (const proposal of proposals) {
    const path = proposal.section.split('.');
    let node = root;
    for (const key of path) node = (node[key] ??= {}) as Record<string, unknown>;
    node[proposal.warnKey] = round(proposal.warn);
    node[proposal.failKey] = round(proposal.fail);
  }
  return root;
}

function round(value: number): number {
  return Number(value.toPrecision(3));
}
