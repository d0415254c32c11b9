import type { LifecycleConfig } from './config.js';
import type { Comparison, Rate } from './judging.js';

type Rules = LifecycleConfig['rollback'];

/** What a rule found: which rule, and the figures that made it fire. */
export interface RuleFinding {
  rule: string;
  message: string;
  candidate: number;
  production: number;
  limit: number;
}

/** One rollback rule: a finding when the candidate is worse past its margin, null when it is not, or when there is too little to judge. */
export interface RollbackRule {
  name: string;
  /** The stage of candidates it judges. */
  stage: 'canary' | 'shadow';
  judge(rules: Rules, comparison: Comparison): RuleFinding | null;
}

const pct = (share: number) => `${(100 * share).toFixed(1)}%`;

/** Past the minimum sample on both sides, a candidate rate above production's by more than the margin. */
function rateRule(name: string, label: string, figure: (c: Comparison['candidate']) => Rate, margin: (rules: Rules) => number, sample: (rules: Rules) => number): RollbackRule {
  return {
    name,
    stage: 'canary',
    judge(rules, { candidate, production }) {
      const a = figure(candidate);
      const b = figure(production);
      if (a.of < sample(rules) || b.of < sample(rules) || a.rate === null || b.rate === null) return null;
      const limit = b.rate + margin(rules);
      if (a.rate <= limit) return null;
      return { rule: name, candidate: a.rate, production: b.rate, limit, message: `${label} ${pct(a.rate)} against production's ${pct(b.rate)} (margin ${pct(margin(rules))}, over ${a.of} and ${b.of})` };
    },
  };
}

/** Every rollback rule, in the order they are judged: a new rule is one more entry here (and its margin in config.ts). */
export const ROLLBACK_RULES: RollbackRule[] = [
  rateRule('review-rate', 'review rate', (f) => f.reviewRate, (r) => r.margins.reviewRate, (r) => r.minSample),
  rateRule('reject-rate', 'reject rate', (f) => f.rejectRate, (r) => r.margins.rejectRate, (r) => r.minSample),
  rateRule('error-rate', 'error rate', (f) => f.errorRate, (r) => r.margins.errorRate, (r) => r.minSample),
  rateRule('override-rate', 'override rate', (f) => f.overrideRate, (r) => r.margins.overrideRate, (r) => r.minReviews),
  {
    name: 'p95-latency',
    stage: 'canary',
    judge(rules, { candidate, production }) {
      const a = candidate.latencyMs.p95;
      const b = production.latencyMs.p95;
      if (candidate.runs < rules.minSample || production.runs < rules.minSample || a === null || b === null || b <= 0) return null;
      const limit = b * rules.margins.p95LatencyRatio;
      if (a <= limit) return null;
      return { rule: 'p95-latency', candidate: a, production: b, limit, message: `p95 latency ${a.toFixed(0)} ms against production's ${b.toFixed(0)} ms (limit x${rules.margins.p95LatencyRatio})` };
    },
  },
  {
    name: 'shadow-agreement',
    stage: 'shadow',
    judge(rules, { candidate }) {
      const agreement = candidate.agreement;
      if (agreement === null || agreement.runs < rules.minSample || agreement.mean >= rules.shadowAgreementFloor) return null;
      return {
        rule: 'shadow-agreement',
        candidate: agreement.mean,
        production: 1,
        limit: rules.shadowAgreementFloor,
        message: `agreement with production ${pct(agreement.mean)} over ${agreement.runs} images, under the floor ${pct(rules.shadowAgreementFloor)}`,
      };
    },
  },
];

/** The first rule that finds the candidate worse, or null. */
export function judgeCandidate(rules: Rules, comparison: Comparison): RuleFinding | null {
  const stage = comparison.candidate.stage;
  for (const rule of ROLLBACK_RULES) {
    if (rule.stage !== stage) continue;
    const finding = rule.judge(rules, comparison);
    if (finding !== null) return finding;
  }
  return null;
}
