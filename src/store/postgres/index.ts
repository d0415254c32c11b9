import type { ReviewStoreOptions } from '../sql/reviews.js';
import { createSqlStores, SQL_STORES, type SqlStores } from '../sql/stores.js';
import { openPostgresClient, type PostgresOptions } from './client.js';

export type { PostgresOptions } from './client.js';

/**
 * Predictions, review tasks and monitor state in one PostgreSQL database that several visionops
 * processes share, over one pool. Nothing connects until the first call; a database that cannot
 * be reached makes each call throw STORE_UNAVAILABLE until it can.
 *
 * @example
 * const stores = openPostgresStores({ url: 'postgres://127.0.0.1:5432/visionops' });
 * await stores.reviews.claim('ana', 600_000);
 */
export function openPostgresStores(options: PostgresOptions, reviewOptions: ReviewStoreOptions = {}): SqlStores {
  return createSqlStores(openPostgresClient(options, SQL_STORES), reviewOptions);
}
