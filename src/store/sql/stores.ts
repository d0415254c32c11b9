import type { ModelStore, MonitorStore, PredictionStore, ReviewStore } from '../store.js';
import type { SqlClient } from './client.js';
import { createSqlModelStore } from './models.js';
import { createSqlMonitorStore } from './monitor.js';
import { createSqlPredictionStore } from './predictions.js';
import { createSqlReviewStore, type ReviewStoreOptions } from './reviews.js';

/** The stores one SQL database keeps. */
export interface SqlStores {
  predictions: PredictionStore;
  reviews: ReviewStore;
  monitor: MonitorStore;
  models: ModelStore;
  /** Closes each store; the connection closes with the last. */
  close(): Promise<void>;
}

/** How many stores `createSqlStores` opens on one client: open the client for as many users. */
export const SQL_STORES = 4;

export function createSqlStores(client: SqlClient, options: ReviewStoreOptions = {}): SqlStores {
  const predictions = createSqlPredictionStore(client);
  const reviews = createSqlReviewStore(client, options);
  const monitor = createSqlMonitorStore(client);
  const models = createSqlModelStore(client);
  return {
    predictions,
    reviews,
    monitor,
    models,
    async close() {
      await Promise.all([predictions.close(), reviews.close(), monitor.close(), models.close()]);
    },
  };
}
