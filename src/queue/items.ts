import { createHash } from 'node:crypto';

/** Where the worker finds an image: a blob in the shared blob store (an upload), or a file under `queue.pathsRoot`. */
export type ItemSource = { blob: string } | { path: string };

/** One queue item: one image of one job, through one pipeline. */
export interface ItemData {
  job: string;
  pipeline: string;
  /** The pipeline version the job was submitted for; the record's lineage names the one that ran. */
  version: string;
  sha256: string;
  source: ItemSource;
  /** The file name as submitted, kept in the record's source and named in errors. */
  name: string | null;
}

/**
 * The deterministic id of one image of one job through one pipeline version: the same image
 * submitted twice in a job is one item, and a redelivered item (its worker killed) is the same
 * item, so its record is saved under the same idempotency key and kept once. BullMQ ids may not
 * hold ':', so the parts are hashed.
 */
export function itemId(job: string, sha256: string, pipeline: string, version: string): string {
  return `${job}.${createHash('sha256').update(JSON.stringify([job, sha256, pipeline, version])).digest('hex').slice(0, 32)}`;
}

/** The idempotency key an item's record is saved under: one record per item, however often it is delivered. */
export function itemIdempotencyKey(id: string): string {
  return `job:${id}`;
}
