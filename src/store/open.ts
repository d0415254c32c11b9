import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { createFileBlobStore } from './blobs.js';
import { openSqliteStore } from './sqlite.js';
import type { BlobStore, PredictionStore } from './store.js';

export interface Stores {
  predictions: PredictionStore;
  blobs: BlobStore;
}

/**
 * The stores the configuration asks for: today the embedded ones under `data.dir`
 * (`visionops.db` and `blobs/`). This is the one place that knows which implementation runs.
 */
export function openStores(data: Config['data']): Stores {
  return {
    predictions: openSqliteStore(join(data.dir, 'visionops.db')),
    blobs: createFileBlobStore(join(data.dir, 'blobs')),
  };
}
