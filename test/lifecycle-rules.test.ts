import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lifecycleConfigSchema } from '../src/registry/config.js';
import type { Comparison, Rate, VersionFigures } from '../src/registry/judging.js';
import { judgeCandidate } from '../src/registry/rollback-rules.js';

const rules = lifecycleConfigSchema.parse({ rollback: { minSample: 100, minReviews: 20 } }).rollback;

function rate(count: number, of: number): Rate {
  return { count, of, rate: of === 0 ? null : count / of, interval: null };
}

/** Figures of `runs` runs with the given shares (rounded to counts), p95 latency, and reviews. */
function figures(stage: VersionFigures['stage'], runs: number, shares: { review?: number; reject?: number; error?: number; override?: number; p95?: number; reviews?: number; agreement?: number } = {}): VersionFigures {
  const count = (share = 0) => Math.round(share * runs);
  const reviews = shares.reviews ?? 0;
  return {
    model: 'rec',
    version: stage === 'production' ? '1' : '2',
    stage,
    since: '2026-12-07T00:00:00.000Z',
    runs,
    errorRate: rate(count(shares.error), runs),
    acceptRate: rate(runs - count(shares.review) - count(shares.reject), runs),
    reviewRate: rate(count(shares.review), runs),
    rejectRate: rate(count(shares.reject), runs),
    overrideRate: rate(Math.round((shares.override ?? 0) * reviews), reviews),
    auditedAccuracy: rate(0, 0),
    latencyMs: { p50: 10, p95: shares.p95 ?? 100, p99: 200 },
    agreement: shares.agreement === undefined ? null : { mean: shares.agreement, interval: { low: 0, high: 1, confidence: 0.95 }, runs },
  };
}

const compare = (candidate: VersionFigures, production: VersionFigures): Comparison => ({ model: 'rec', candidate, production });

// Production: 10% review, 2% reject, 1% errors, 10% overrides, p95 100 ms. Each case moves one figure of the canary.
const PRODUCTION = { review: 0.1, reject: 0.02, error: 0.01, override: 0.1, p95: 100, reviews: 50 };
const CASES = [
  { rule: 'review-rate', within: { review: 0.19 }, past: { review: 0.22 } },
  { rule: 'reject-rate', within: { reject: 0.06 }, past: { reject: 0.08 } },
  { rule: 'error-rate', within: { error: 0.02 }, past: { error: 0.04 } },
  { rule: 'override-rate', within: { override: 0.18 }, past: { override: 0.24 } },
  { rule: 'p95-latency', within: { p95: 140 }, past: { p95: 160 } },
];

for (const { rule, within, past } of CASES) {
  test(`${rule}: fires past its margin, holds within it, and waits for the minimum sample`, () => {
    const production = figures('production', 400, PRODUCTION);
    assert.equal(judgeCandidate(rules, compare(figures('canary', 200, { ...PRODUCTION, ...within }), production)), null);
    const finding = judgeCandidate(rules, compare(figures('canary', 200, { ...PRODUCTION, ...past }), production));
    assert.equal(finding?.rule, rule);
    assert.ok(finding.candidate > finding.limit);
    // The same figures over too few runs (or reviews, for overrides) judge nothing yet.
    const few = rule === 'override-rate' ? { ...PRODUCTION, ...past, reviews: 19 } : { ...PRODUCTION, ...past };
    assert.equal(judgeCandidate(rules, compare(figures('canary', rule === 'override-rate' ? 200 : 99, few), production)), null);
  });
}

test('shadow-agreement: a shadow under the floor is found once it has the minimum sample', () => {
  const production = figures('production', 400, PRODUCTION);
  assert.equal(judgeCandidate(rules, compare(figures('shadow', 150, { agreement: 0.93 }), production)), null);
  assert.equal(judgeCandidate(rules, compare(figures('shadow', 150, { agreement: 0.85 }), production))?.rule, 'shadow-agreement');
  assert.equal(judgeCandidate(rules, compare(figures('shadow', 99, { agreement: 0.5 }), production)), null);
  // Canary rules do not judge shadows: a shadow's answers were never sent, so its rates are not production's to compare.
  assert.equal(judgeCandidate(rules, compare(figures('shadow', 150, { ...PRODUCTION, review: 0.9, agreement: 0.99 }), production)), null);
});
