import type { AlertState } from '../core/monitor/alerts.js';
import type { ReferenceProfile } from '../core/monitor/profile.js';
import type { PredictionRecord } from '../core/records/prediction.js';
import type { NewReviewTask, ReviewAnswer, ReviewStatus, ReviewTally, ReviewTask } from '../core/records/review.js';

/**
 * Where prediction records live. SQLite embedded (`sqlite/`) by default, PostgreSQL scaled out;
 * callers hold this interface and never learn which one runs. A store that can no longer keep a
 * record throws STORE_UNAVAILABLE: nothing is dropped silently.
 */
export interface PredictionStore {
  /**
   * Keeps the record and returns what is kept under its id or `idempotencyKey`: the record itself
   * the first time, the one kept earlier on a repeat (same id, or same key), never a second copy.
   * The insert is one statement that does nothing when the id or key is taken, so retried and
   * replayed writes, even racing ones, keep one record.
   */
  save(record: PredictionRecord, options?: SaveOptions): Promise<PredictionRecord>;
  /** The record saved with this idempotency key, or null. */
  findByIdempotencyKey(key: string): Promise<PredictionRecord | null>;
  get(id: string): Promise<PredictionRecord | null>;
  /** Newest first; `before` is the id of a record, to page back from it. */
  list(options: { limit: number; before?: string }): Promise<PredictionRecord[]>;
  /** Resolves when the store answers and could keep a record; throws STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface SaveOptions {
  /** A caller's name for this write (a request's Idempotency-Key, a job id); unique across records. */
  idempotencyKey?: string;
}

/** Content-addressed bytes (images kept for review): the key is the SHA-256 of the bytes, in hex. */
export interface BlobStore {
  /** Keeps the bytes once, however often they are put, and returns their key. */
  put(bytes: Uint8Array): Promise<string>;
  get(key: string): Promise<Uint8Array | null>;
}

/**
 * Where review tasks live: beside the predictions, in SQLite by default or PostgreSQL scaled out;
 * callers hold this interface. Every state change is atomic, so two reviewers never hold one task
 * and a crash never leaves an answer half kept. A store that cannot be used throws STORE_UNAVAILABLE.
 */
export interface ReviewStore {
  /** Adds a pending task; a prediction has at most one, so adding it again returns the existing task. */
  create(task: NewReviewTask): Promise<ReviewTask>;
  get(id: string): Promise<ReviewTask | null>;
  /** Newest first; `before` is a task id, to page back from it. */
  list(options: { status?: ReviewStatus; limit: number; before?: string }): Promise<ReviewTask[]>;
  /**
   * Leases the oldest pending task (never claimed, or its lease expired) to `reviewer` for
   * `leaseMs`, or returns null when none waits. One transaction: concurrent claims never get the same task.
   */
  claim(reviewer: string, leaseMs: number): Promise<ReviewTask | null>;
  /**
   * Keeps the answer of the reviewer who holds the task's lease. Throws TASK_NOT_FOUND,
   * TASK_ALREADY_ANSWERED, TASK_NOT_CLAIMED (nobody's, or someone else's) or LEASE_EXPIRED.
   */
  answer(id: string, answer: ReviewAnswer): Promise<ReviewTask>;
  counts(): Promise<Record<ReviewStatus, number>>;
  /** Answered tasks counted by model version and kind. */
  tallies(): Promise<ReviewTally[]>;
  /** Answered tasks, oldest answer first; `since` keeps those answered at or after it (ISO time). */
  answered(options: { since?: string }): Promise<ReviewTask[]>;
  close(): Promise<void>;
}

/**
 * Alert transitions and the reference built from production, kept across restarts in the same
 * database as the records. A store that cannot be used throws STORE_UNAVAILABLE.
 */
export interface MonitorStore {
  recordTransition(state: AlertState): Promise<void>;
  /** Every transition, newest first. */
  transitions(limit: number): Promise<AlertState[]>;
  /** The latest state of each rule that ever fired. */
  latestStates(): Promise<AlertState[]>;
  saveReference(profile: ReferenceProfile): Promise<void>;
  loadReference(): Promise<ReferenceProfile | null>;
  close(): Promise<void>;
}
