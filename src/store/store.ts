import type { ModelRun, ModelVersion, RunStage, StageAssignment, StageEvent } from '../registry/types.js';
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

/**
 * The model registry, beside the records: every version a slot can run, which stage each is in
 * (with the history of changes, for rollback), what each run of a version did (for judging it),
 * and the datasets exported from reviews (for lineage). A store that cannot be used throws
 * STORE_UNAVAILABLE.
 */
export interface ModelStore {
  /**
   * Keeps a version; adding the same version again with the same weights returns the one kept
   * first. Throws MODEL_VERSION_EXISTS when the version is taken by other weights.
   */
  addVersion(version: ModelVersion): Promise<ModelVersion>;
  version(model: string, version: string): Promise<ModelVersion | null>;
  /** Oldest first; every slot's when `model` is not given. */
  versions(model?: string): Promise<ModelVersion[]>;
  /** The stage of every version that is not off; every slot's when `model` is not given. */
  assignments(model?: string): Promise<StageAssignment[]>;
  /**
   * Puts each version in its stage, in order, and keeps the events; a slot's production (or
   * canary) before goes off. One transaction for all: no reader sees a slot with two productions
   * or none, or a rollback half done.
   */
  setStages(events: readonly StageEvent[]): Promise<void>;
  /** The slot's stage changes, newest first. */
  stageHistory(model: string, limit: number): Promise<StageEvent[]>;
  recordRuns(runs: ModelRun[]): Promise<void>;
  /** Counts of a version's runs in a stage since a time, with the review answers of their predictions. */
  runTally(model: string, version: string, stage: RunStage, since: string): Promise<RunTally>;
  /** Latencies (ms) and agreements of a version's runs in a stage since a time, newest first, at most `limit`. */
  runFigures(model: string, version: string, stage: RunStage, since: string, limit: number): Promise<{ latencies: number[]; agreements: number[] }>;
  /** Keeps an export's manifest (its id, predictions and model versions), once. */
  saveDataset(dataset: DatasetEntry): Promise<void>;
  dataset(id: string): Promise<DatasetEntry | null>;
  /** The review tasks of these predictions, by prediction id. */
  reviewsOf(predictionIds: string[]): Promise<DatasetReview[]>;
  close(): Promise<void>;
}

/** Runs of one version in one stage, counted. */
export interface RunTally {
  runs: number;
  failed: number;
  accept: number;
  review: number;
  reject: number;
  /** Review answers given on its predictions: all, corrected ones, audits, audits confirmed. */
  answered: number;
  corrected: number;
  audited: number;
  auditConfirmed: number;
}

/** A dataset export as lineage needs it. */
export interface DatasetEntry {
  id: string;
  createdAt: string;
  format: string;
  predictions: string[];
  modelVersions: string[];
}

export interface DatasetReview {
  taskId: string;
  predictionId: string;
  kind: 'review' | 'audit';
  verdict: 'confirm' | 'correct' | 'unusable' | null;
  answeredAt: string | null;
}
