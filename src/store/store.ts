import type { PredictionRecord } from '../pipeline/types.js';

/**
 * Where prediction records live. SQLite embedded (`sqlite.ts`) by default, PostgreSQL scaled out;
 * callers hold this interface and never learn which one runs. A store that can no longer keep a
 * record throws STORE_UNAVAILABLE: nothing is dropped silently.
 */
export interface PredictionStore {
  /** Keeps the record; its `id` must be new. */
  save(record: PredictionRecord): Promise<void>;
  get(id: string): Promise<PredictionRecord | null>;
  /** Newest first; `before` is the id of a record, to page back from it. */
  list(options: { limit: number; before?: string }): Promise<PredictionRecord[]>;
  /** Resolves when the store answers and could keep a record; throws STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Content-addressed bytes (images kept for review): the key is the SHA-256 of the bytes, in hex. */
export interface BlobStore {
  /** Keeps the bytes once, however often they are put, and returns their key. */
  put(bytes: Uint8Array): Promise<string>;
  get(key: string): Promise<Uint8Array | null>;
}
