import type { QualityCheck, QualityReport, Verdict } from './types.js';

const SEVERITY: Record<Verdict, number> = { pass: 0, warn: 1, fail: 2 };

/** The report of a list of checks: the worst verdict, and each distinct guidance sentence, worst first. */
export function reportOf(checks: QualityCheck[]): QualityReport {
  const verdict = checks.reduce<Verdict>((worst, c) => (SEVERITY[c.verdict] > SEVERITY[worst] ? c.verdict : worst), 'pass');
  const guidance = checks
    .filter((check) => check.verdict !== 'pass' && check.guidance !== null)
    .sort((a, b) => SEVERITY[b.verdict] - SEVERITY[a.verdict])
    .map((check) => check.guidance as string);
  return { verdict, checks, guidance: [...new Set(guidance)] };
}
