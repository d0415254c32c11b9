import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { openMonitorStore } from '../monitor/store.js';
import { createFileBlobStore } from './blobs.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteReviewStore } from './review-sqlite.js';
import { openSqliteStore } from './sqlite.js';
import type { BlobStore, MonitorStore, PredictionStore, ReviewStore } from './store.js';

/** Every port a running visionops needs, from one configuration. */
export interface Stores {
  predictions: PredictionStore;
  reviews: ReviewStore;
  monitor: MonitorStore;
  blobs: BlobStore;
  /** Closes every store, each once. */
  close(): Promise<void>;
}

/**
 * The stores the configuration asks for: records in SQLite (`data.dir/visionops.db`) or
 * PostgreSQL (`data.postgres.url`), images in `data.dir/blobs/`, review tasks in SQLite
 * (`data.dir/visionops.db`) and monitor state in `data.dir/monitor.db` whichever records store
 * runs. This is the one place that knows which implementation runs.
 */
export function openStores(data: Config['data']): Stores {
  const database = join(data.dir, 'visionops.db');
  const predictions = data.store === 'postgres' ? openPostgresStore(data.postgres) : openSqliteStore(database);
  const reviews = openSqliteReviewStore(database);
  const monitor = openMonitorStore(data.dir);
  return {
    predictions,
    reviews,
    monitor,
    blobs: createFileBlobStore(join(data.dir, 'blobs')),
    async close() {
      await Promise.all([predictions.close(), reviews.close()]);
      monitor.close();
    },
  };
}
