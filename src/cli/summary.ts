import type { Decision } from '../core/records/prediction.js';

/** Tallies of a `visionops run`, printed when it ends. */
export class RunSummary {
  readonly decisions: Record<Decision, number> = { accept: 0, review: 0, reject: 0 };
  readonly errors = new Map<string, number>();
  /** Files found recorded by an earlier run, with the same content and pipeline: nothing ran for them. */
  skipped = 0;
  private readonly latencies: number[] = [];

  recordPrediction(decision: Decision, totalMs: number): void {
    this.decisions[decision]++;
    this.latencies.push(totalMs);
  }

  /** A file already recorded: its decision counts, its earlier latency does not. */
  recordSkipped(decision: Decision): void {
    this.decisions[decision]++;
    this.skipped++;
  }

  recordError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  get errorCount(): number {
    return [...this.errors.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Latency percentiles of the recorded predictions, in ms; null before the first. */
  latency(): { p50: number; p90: number; p99: number } | null {
    if (this.latencies.length === 0) return null;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return { p50: nearestRank(sorted, 0.5), p90: nearestRank(sorted, 0.9), p99: nearestRank(sorted, 0.99) };
  }

  format(files: number, seconds: number): string {
    const errors = [...this.errors].map(([code, n]) => `${code} ${n}`).join(', ');
    const latency = this.latency();
    return [
      `${files} files in ${seconds.toFixed(1)} s${this.skipped > 0 ? `, ${this.skipped} already recorded, skipped` : ''}`,
      `accepted ${this.decisions.accept}, review ${this.decisions.review}, rejected ${this.decisions.reject}, ` +
        `errors ${this.errorCount}${errors ? ` (${errors})` : ''}`,
      latency === null
        ? 'latency: no predictions run'
        : `latency per image: p50 ${latency.p50.toFixed(1)} ms, p90 ${latency.p90.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms`,
    ].join('\n');
  }
}

/** The smallest value with at least `fraction` of the values at or below it (no interpolation: a real observation). */
function nearestRank(sorted: number[], fraction: number): number {
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)];
}
