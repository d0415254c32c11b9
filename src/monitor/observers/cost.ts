import type { PredictionRecord } from '../../core/records/prediction.js';
import type { PredictionPoint } from '../../core/monitor/summary.js';
import type { MonitorConfig } from '../config.js';
import type { MonitorMetrics } from '../metrics.js';
import { keepRecent } from '../recent.js';

const RECENT_PREDICTIONS = 2000;
/** The cost per inference gauge is the mean over this many recent predictions. */
const PRICED_WINDOW = 100;

/**
 * The cost of each prediction (configured price per CPU-second and GPU-hour times the measured
 * busy time), and the recent predictions with their latency, decision, cost or error: what the
 * dashboard's latency, throughput and cost panels and the latency alert read.
 */
export class CostLedger {
  readonly recent: PredictionPoint[] = [];
  private spent = 0;

  constructor(
    private readonly config: MonitorConfig['cost'],
    private readonly metrics: MonitorMetrics,
    /** True when models run on a GPU execution provider: their stages' wall time is then GPU time. */
    private readonly gpu: boolean,
    private readonly now: () => Date,
  ) {}

  get total(): number {
    return this.spent;
  }

  /** A recorded prediction and the CPU time it took. */
  charge(record: PredictionRecord, cpuSeconds: number): void {
    const { metrics, config } = this;
    const gpuSeconds = this.gpu ? Object.entries(record.timings).reduce((sum, [stage, ms]) => sum + (record.lineage.models.some((m) => m.stage === stage) ? ms / 1000 : 0), 0) : 0;
    const cost = cpuSeconds * config.cpuSecond + (gpuSeconds / 3600) * config.gpuHour;
    this.spent += cost;
    metrics.cpuSeconds.inc(cpuSeconds);
    if (gpuSeconds > 0) metrics.gpuSeconds.inc(gpuSeconds);
    metrics.costTotal.inc({ currency: config.currency }, cost);
    keepRecent(this.recent, { time: this.now().getTime(), latencyMs: record.timings.total ?? 0, decision: record.decision, cost, error: false }, RECENT_PREDICTIONS);
    const priced = this.recent.filter((p) => !p.error).slice(-PRICED_WINDOW);
    metrics.costPerInference.set({ currency: config.currency }, priced.reduce((sum, p) => sum + p.cost, 0) / Math.max(1, priced.length));
  }

  /** A prediction that failed: no cost, counted against the error rate's panel. */
  failed(): void {
    keepRecent(this.recent, { time: this.now().getTime(), latencyMs: 0, decision: null, cost: 0, error: true }, RECENT_PREDICTIONS);
  }

  /** Latencies of the recent predictions that did not fail, oldest first. */
  latencies(): number[] {
    return this.recent.filter((p) => !p.error).map((p) => p.latencyMs);
  }
}
