import { isDocumentResult } from '../../core/records/prediction.js';
import type { PredictionObserver } from '../../pipeline/runner.js';
import type { BatchListener } from '../../runtime/batcher.js';
import type { MonitorMetrics } from '../metrics.js';

/**
 * The performance machinery as it works: each batch the dynamic batcher forms (size, queue
 * delays; for the pipelines' `onBatch`), and of each recorded prediction its cache hit or its
 * recognition cascade's early exits (their ratio to `visionops_cascade_lines_total` is the
 * early-exit share).
 */
export function performanceObserver(metrics: MonitorMetrics): PredictionObserver & { onBatch: BatchListener } {
  return {
    onBatch(event) {
      metrics.batchSize.observe({ model: event.name }, event.size);
      for (const micros of event.queueDelaysMicros) metrics.batchQueueDelay.observe({ model: event.name }, micros / 1e6);
    },
    recorded({ record }) {
      if (record.lineage.cache !== undefined) {
        metrics.cacheHits.inc({ kind: record.lineage.cache.hit });
        return;
      }
      const cascade = record.result !== null && isDocumentResult(record.result) ? record.result.cascade : undefined;
      if (cascade !== undefined) {
        metrics.cascadeLines.inc(cascade.lines);
        metrics.cascadeEarlyExits.inc(cascade.earlyExits);
      }
    },
  };
}
