import type { RemoteListener } from '../../runtime/remote/pool.js';
import type { MonitorMetrics } from '../metrics.js';

/** The remote backends' calls and health, per endpoint, as metrics (for the pipelines' `onRemote`). */
export function remoteMetrics(metrics: MonitorMetrics): RemoteListener {
  return {
    attempt: (endpoint, model, seconds, outcome) => metrics.remoteDuration.observe({ endpoint, model, outcome }, seconds),
    health: (endpoint, model, up) => metrics.remoteUp.set({ endpoint, model }, up ? 1 : 0),
    outstanding: (endpoint, model, count) => metrics.remoteOutstanding.set({ endpoint, model }, count),
  };
}
