import { AlertBook, type AlertState, type RuleVerdict } from '../core/monitor/alerts.js';
import type { MonitorStore } from '../store/store.js';
import { evaluateRules, type AlertInputs } from './alert-rules.js';
import type { MonitorConfig } from './config.js';
import type { MonitorLog } from './log.js';
import type { MonitorMetrics } from './metrics.js';
import { sendWebhooks } from './webhooks.js';

export interface AlertingDeps {
  config: MonitorConfig['alerts'];
  metrics: MonitorMetrics;
  /** Where transitions are kept across restarts. */
  store?: MonitorStore;
  /** The latest state of each rule, as the store kept it before this process started. */
  restored: AlertState[];
  log: () => MonitorLog;
  /** Background work (webhooks, store writes) the monitor waits for on `settle`; a failure is logged, not thrown. */
  track(work: Promise<unknown>): void;
}

/** The alert rules applied to the monitor's figures: each transition gauged, logged, kept and sent to the webhooks. */
export class Alerting {
  private readonly book: AlertBook;

  constructor(private readonly deps: AlertingDeps) {
    this.book = new AlertBook(deps.restored);
    for (const state of this.book.list()) deps.metrics.alertsFiring.set({ rule: state.rule }, state.state === 'firing' ? 1 : 0);
  }

  /** Every alert that has fired, firing first. */
  list(): AlertState[] {
    return this.book.list();
  }

  evaluate(inputs: AlertInputs, now: Date): void {
    this.apply(evaluateRules(this.deps.config, inputs), now);
  }

  /** Verdicts reached outside the rules table (a model version rolled back by the lifecycle rules), applied like the table's. */
  apply(verdicts: RuleVerdict[], now: Date): void {
    const { config, metrics, store } = this.deps;
    for (const transition of this.book.apply(verdicts, now)) {
      metrics.alertsFiring.set({ rule: transition.rule }, transition.state === 'firing' ? 1 : 0);
      const log = this.deps.log();
      log[transition.state === 'firing' ? 'warn' : 'info']({ rule: transition.rule, details: transition.details }, `alert ${transition.state}: ${transition.message}`);
      if (store !== undefined) this.deps.track(store.recordTransition(transition));
      if (config.webhooks.length > 0) this.deps.track(sendWebhooks(config.webhooks, transition, { timeoutMs: config.webhookTimeoutMs, attempts: config.webhookAttempts }, log));
    }
  }
}
