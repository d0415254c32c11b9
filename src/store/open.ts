import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { createFileBlobStore } from './blobs.js';
import { openPostgresStores } from './postgres/index.js';
import { openSqliteStores } from './sqlite/index.js';
import type { BlobStore, ModelStore, MonitorStore, PredictionStore, ReviewStore } from './store.js';

/** Every port a running visionops needs, from one configuration. */
export interface Stores {
  predictions: PredictionStore;
  reviews: ReviewStore;
  monitor: MonitorStore;
  /** The model registry (versions, stages, runs, datasets). */
  models: ModelStore;
  blobs: BlobStore;
  /** Closes every store, each once. */
  close(): Promise<void>;
}

/**
 * The stores the configuration asks for: predictions, review tasks and monitor state all in
 * SQLite (`data.dir/visionops.db`) or all in PostgreSQL (`data.postgres.url`, and then no SQLite
 * file is made); kept images in `data.dir/blobs/` either way. This is the one place that knows
 * which implementation runs.
 */
export function openStores(data: Config['data']): Stores {
  const stores = data.store === 'postgres' ? openPostgresStores(data.postgres) : openSqliteStores(join(data.dir, 'visionops.db'));
  return { ...stores, blobs: createFileBlobStore(join(data.dir, 'blobs')) };
}
