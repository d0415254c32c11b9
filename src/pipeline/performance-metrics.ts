import { Counter, Histogram, type Registry } from 'prom-client';
import type { BatchListener } from '../runtime/batcher.js';
import type { PredictionObserver } from './runner.js';

export interface PerformanceMetrics {
  /** For loadDocumentPipeline's `onBatch`: each batch's size and its requests' queue delays. */
  onBatch: BatchListener;
  /** For the prediction service's observers: cache hits and the cascade's early exits. */
  observer: PredictionObserver;
}

/**
 * Prometheus metrics of the performance machinery, in the registry given (the monitor's):
 * `visionops_batch_size` and `visionops_batch_queue_delay_seconds` per model,
 * `visionops_cache_hits_total` by kind, `visionops_cascade_lines_total` and
 * `visionops_cascade_early_exits_total` (their ratio is the early-exit share).
 */
export function performanceMetrics(registry: Registry): PerformanceMetrics {
  const registers = [registry];
  const batchSize = new Histogram({ name: 'visionops_batch_size', help: 'Requests per model run formed by the dynamic batcher.', labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32], registers });
  const queueDelay = new Histogram({
    name: 'visionops_batch_queue_delay_seconds',
    help: 'Time a request waited in the dynamic batcher before its batch ran.',
    labelNames: ['model'],
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1],
    registers,
  });
  const cacheHits = new Counter({ name: 'visionops_cache_hits_total', help: 'Predictions answered from the result cache.', labelNames: ['kind'], registers });
  const cascadeLines = new Counter({ name: 'visionops_cascade_lines_total', help: 'Lines read by the recognition cascade.', registers });
  const earlyExits = new Counter({ name: 'visionops_cascade_early_exits_total', help: 'Lines the cascade kept from its fast model.', registers });
  return {
    onBatch(event) {
      batchSize.observe({ model: event.name }, event.size);
      for (const micros of event.queueDelaysMicros) queueDelay.observe({ model: event.name }, micros / 1e6);
    },
    observer: {
      recorded({ record }) {
        if (record.lineage.cache !== undefined) {
          cacheHits.inc({ kind: record.lineage.cache.hit });
          return;
        }
        const cascade = record.result?.cascade;
        if (cascade !== undefined) {
          cascadeLines.inc(cascade.lines);
          earlyExits.inc(cascade.earlyExits);
        }
      },
    },
  };
}
