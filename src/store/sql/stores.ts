import type { MonitorStore, PredictionStore, ReviewStore } from '../store.js';
import type { SqlClient } from './client.js';
import { createSqlMonitorStore } from './monitor.js';
import { createSqlPredictionStore } from './predictions.js';
import { createSqlReviewStore, type ReviewStoreOptions } from './reviews.js';

/** The stores one SQL database keeps. */
export interface SqlStores {
  predictions: PredictionStore;
  reviews: ReviewStore;
  monitor: MonitorStore;
  /** Closes each store; the connection closes with the last. */
  close(): Promise<void>;
}

/** How many stores `createSqlStores` opens on one client: open the client for as many users. */
export const SQL_STORES = 3;

export function createSqlStores(client: SqlClient, options: ReviewStoreOptions = {}): SqlStores {
  const predictions = createSqlPredictionStore(client);
  const reviews = createSqlReviewStore(client, options);
  const monitor = createSqlMonitorStore(client);
  return {
    predictions,
    reviews,
    monitor,
    async close() {
      await Promise.all([predictions.close(), reviews.close(), monitor.close()]);
    },
  };
}
