import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { createFileBlobStore } from './blobs.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { BlobStore, PredictionStore } from './store.js';

export interface Stores {
  predictions: PredictionStore;
  blobs: BlobStore;
}

/**
 * The stores the configuration asks for: records in SQLite (`data.dir/visionops.db`) or
 * PostgreSQL (`data.postgres.url`), images in `data.dir/blobs/`. This is the one place that
 * knows which implementation runs.
 */
export function openStores(data: Config['data']): Stores {
  return {
    predictions: data.store === 'postgres' ? openPostgresStore(data.postgres) : openSqliteStore(join(data.dir, 'visionops.db')),
    blobs: createFileBlobStore(join(data.dir, 'blobs')),
  };
}
