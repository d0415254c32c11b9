import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { openSqliteReviewStore } from './review-sqlite.js';

import { createFileBlobStore } from './blobs.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { BlobStore, PredictionStore, ReviewStore } from './store.js';

export interface Stores {
  predictions: PredictionStore;
  blobs: BlobStore;
  reviews: ReviewStore;
}

/**
 * The stores the configuration asks for: records in SQLite (`data.dir/visionops.db`) or
 * PostgreSQL (`data.postgres.url`), images in `data.dir/blobs/`, review tasks in SQLite
 * (`data.dir/visionops.db`) whichever records store runs. This is the one place that knows which
 * implementation runs.
 */
export function openStores(data: Config['data']): Stores {
  const database = join(data.dir, 'visionops.db');
  return {
    predictions: data.store === 'postgres' ? openPostgresStore(data.postgres) : openSqliteStore(database),
    blobs: createFileBlobStore(join(data.dir, 'blobs')),
    reviews: openSqliteReviewStore(database),
  };
}
