import type { NewReviewTask, ReviewAnswer, ReviewStatus, ReviewTally, ReviewTask } from './types.js';

/**
 * Where review tasks live: SQLite beside the predictions by default (`src/store/review-sqlite.ts`);
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
