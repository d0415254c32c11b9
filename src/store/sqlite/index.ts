import type { ReviewStoreOptions } from '../sql/reviews.js';
import { createSqlStores, SQL_STORES, type SqlStores } from '../sql/stores.js';
import { openSqliteClient } from './client.js';

/**
 * Predictions, review tasks and monitor state in one SQLite file (`data.dir/visionops.db`) over
 * one connection. Throws STORE_UNAVAILABLE when the file cannot be opened or migrated.
 *
 * @example
 * const stores = openSqliteStores('data/visionops.db');
 * await stores.predictions.save(record);
 */
export function openSqliteStores(file: string, options: ReviewStoreOptions = {}): SqlStores {
  return createSqlStores(openSqliteClient(file, SQL_STORES), options);
}
