import Database from 'better-sqlite3';
import { VisionopsError } from '../core/errors.js';
import { newRecordId } from './record-id.js';
import { isUnavailable, unavailable } from './sqlite.js';
import { openSqliteDatabase, type Migration } from './sqlite-database.js';
import type { ReviewStore } from './store.js';
import type { ReviewAnswer, ReviewKind, ReviewStatus, ReviewTally, ReviewTask } from '../core/records/review.js';

const MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: 'review_tasks',
    sql: `
      CREATE TABLE review_tasks (
        id TEXT PRIMARY KEY,
        prediction_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('review', 'audit')),
        created_at TEXT NOT NULL,
        model_version TEXT NOT NULL,
        blob TEXT NOT NULL,
        model_output TEXT NOT NULL CHECK (json_valid(model_output)),
        claimed_by TEXT,
        claimed_at TEXT,
        lease_expires_at INTEGER,
        answered_at TEXT,
        verdict TEXT CHECK (verdict IS NULL OR verdict IN ('confirm', 'correct', 'unusable')),
        answer TEXT CHECK (answer IS NULL OR json_valid(answer)),
        lines_reviewed INTEGER,
        lines_changed INTEGER,
        lines_added INTEGER
      ) STRICT;
      CREATE INDEX review_tasks_open ON review_tasks (answered_at, lease_expires_at);
      CREATE INDEX review_tasks_answered ON review_tasks (answered_at, id) WHERE answered_at IS NOT NULL;
    `,
  },
];

interface Row {
  id: string;
  prediction_id: string;
  kind: ReviewKind;
  created_at: string;
  model_version: string;
  blob: string;
  model_output: string;
  claimed_by: string | null;
  claimed_at: string | null;
  lease_expires_at: number | null;
  answered_at: string | null;
  answer: string | null;
}

/** SQL conditions for each status at the time `@now` (milliseconds since the epoch). */
const STATUS_WHERE: Record<ReviewStatus, string> = {
  pending: 'answered_at IS NULL AND (lease_expires_at IS NULL OR lease_expires_at <= @now)',
  claimed: 'answered_at IS NULL AND lease_expires_at > @now',
  done: 'answered_at IS NOT NULL',
};

export interface SqliteReviewStoreOptions {
  /** Milliseconds since the epoch; tests pass their own clock to expire leases without waiting. */
  now?: () => number;
}

/**
 * Review tasks in the SQLite file of the predictions (its own table and migrations), WAL mode.
 * Claims and answers are immediate transactions: the write lock is taken before the task is read,
 * so two connections, or two processes, never both take one task.
 *
 * @example
 * const reviews = openSqliteReviewStore('data/visionops.db');
 * const task = await reviews.claim('ana', 10 * 60_000);
 */
export function openSqliteReviewStore(file: string, { now = Date.now }: SqliteReviewStoreOptions = {}): ReviewStore {
  let db: Database.Database;
  try {
    db = openSqliteDatabase(file, 'review_migrations', MIGRATIONS);
  } catch (error) {
    throw unavailable(file, error);
  }
  let closed = false;

  const insert = db.prepare(`
    INSERT INTO review_tasks (id, prediction_id, kind, created_at, model_version, blob, model_output)
    VALUES (@id, @predictionId, @kind, @createdAt, @modelVersion, @blob, @modelOutput)
    ON CONFLICT (prediction_id) DO NOTHING`);
  const selectOne = db.prepare<[string], Row>('SELECT * FROM review_tasks WHERE id = ?');
  const selectByPrediction = db.prepare<[string], Row>('SELECT * FROM review_tasks WHERE prediction_id = ?');
  const claimNext = db.prepare<{ reviewer: string; at: string; expires: number; now: number }, Row>(`
    UPDATE review_tasks SET claimed_by = @reviewer, claimed_at = @at, lease_expires_at = @expires
    WHERE id = (
      SELECT id FROM review_tasks WHERE ${STATUS_WHERE.pending}
      ORDER BY kind = 'audit', id LIMIT 1
    )
    RETURNING *`);
  const keepAnswer = db.prepare(`
    UPDATE review_tasks SET answered_at = @at, verdict = @verdict, answer = @answer,
      lines_reviewed = @linesReviewed, lines_changed = @linesChanged, lines_added = @linesAdded
    WHERE id = @id AND answered_at IS NULL`);
  const countAll = db.prepare<{ now: number }, Record<ReviewStatus, number | null>>(`
    SELECT SUM(${STATUS_WHERE.pending}) AS pending, SUM(${STATUS_WHERE.claimed}) AS claimed, SUM(${STATUS_WHERE.done}) AS done
    FROM review_tasks`);
  const tally = db.prepare<[], ReviewTally>(`
    SELECT model_version AS modelVersion, kind, COUNT(*) AS answered, SUM(verdict = 'unusable') AS unusable,
           SUM(lines_reviewed) AS linesReviewed, SUM(lines_changed) AS linesChanged, SUM(lines_added) AS linesAdded
    FROM review_tasks WHERE answered_at IS NOT NULL
    GROUP BY model_version, kind ORDER BY model_version, kind`);
  const answeredSince = db.prepare<[string], Row>('SELECT * FROM review_tasks WHERE answered_at >= ? ORDER BY answered_at, id');

  function use<T>(work: () => T): T {
    if (closed) throw new VisionopsError('STORE_UNAVAILABLE', `The review store ${file} is closed: restart visionops.`);
    try {
      return work();
    } catch (error) {
      if (error instanceof VisionopsError) throw error;
      if (isUnavailable(error)) throw unavailable(file, error);
      throw error;
    }
  }

  const answerTransaction = db.transaction((id: string, answer: ReviewAnswer) => {
    const row = selectOne.get(id);
    if (row === undefined) throw taskNotFound(id);
    if (row.answered_at !== null) {
      throw new VisionopsError('TASK_ALREADY_ANSWERED', `Task ${id} was answered at ${row.answered_at}: claim another with POST /v1/reviews/claim.`);
    }
    if (row.claimed_by !== answer.by) {
      const holder = row.claimed_by === null || (row.lease_expires_at ?? 0) <= now() ? 'nobody' : 'another reviewer';
      throw new VisionopsError('TASK_NOT_CLAIMED', `Task ${id} is claimed by ${holder}, not by you: claim a task with POST /v1/reviews/claim, then answer it.`);
    }
    if ((row.lease_expires_at ?? 0) <= now()) {
      throw new VisionopsError(
        'LEASE_EXPIRED',
        `Your claim on task ${id} expired at ${new Date(row.lease_expires_at ?? 0).toISOString()} and the task went back to the queue: claim again (review.leaseSeconds sets how long a claim lasts).`,
      );
    }
    keepAnswer.run({
      id,
      at: answer.at,
      verdict: answer.verdict,
      answer: JSON.stringify(answer),
      linesReviewed: answer.linesReviewed,
      linesChanged: answer.linesChanged,
      linesAdded: answer.added.length,
    });
    return selectOne.get(id) as Row;
  });

  return {
    async create(task) {
      return use(() => {
        insert.run({
          id: newRecordId(now()),
          predictionId: task.predictionId,
          kind: task.kind,
          createdAt: new Date(now()).toISOString(),
          modelVersion: task.modelVersion,
          blob: task.blob,
          modelOutput: JSON.stringify(task.modelOutput),
        });
        return toTask(selectByPrediction.get(task.predictionId) as Row, now());
      });
    },
    async get(id) {
      const row = use(() => selectOne.get(id));
      return row === undefined ? null : toTask(row, now());
    },
    async list({ status, limit, before }) {
      const conditions = [status === undefined ? '1' : STATUS_WHERE[status], before === undefined ? '1' : 'id < @before'];
      const rows = use(() =>
        db.prepare<Record<string, unknown>, Row>(`SELECT * FROM review_tasks WHERE ${conditions.join(' AND ')} ORDER BY id DESC LIMIT @limit`).all({ now: now(), before, limit }),
      );
      const at = now();
      return rows.map((row) => toTask(row, at));
    },
    async claim(reviewer, leaseMs) {
      return use(() => {
        const at = now();
        const row = db.transaction(() => claimNext.get({ reviewer, at: new Date(at).toISOString(), expires: at + leaseMs, now: at })).immediate();
        return row === undefined ? null : toTask(row, at);
      });
    },
    async answer(id, answer) {
      return use(() => toTask(answerTransaction.immediate(id, answer), now()));
    },
    async counts() {
      const row = use(() => countAll.get({ now: now() }));
      return { pending: row?.pending ?? 0, claimed: row?.claimed ?? 0, done: row?.done ?? 0 };
    },
    async tallies() {
      return use(() => tally.all());
    },
    async answered({ since }) {
      const rows = use(() => answeredSince.all(since ?? ''));
      const at = now();
      return rows.map((row) => toTask(row, at));
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

function taskNotFound(id: string): VisionopsError {
  return new VisionopsError('TASK_NOT_FOUND', `There is no review task ${id}: list the tasks with GET /v1/reviews.`);
}

function toTask(row: Row, now: number): ReviewTask {
  const leased = row.lease_expires_at !== null && row.lease_expires_at > now;
  return {
    id: row.id,
    predictionId: row.prediction_id,
    kind: row.kind,
    createdAt: row.created_at,
    modelVersion: row.model_version,
    blob: row.blob,
    modelOutput: JSON.parse(row.model_output),
    status: row.answered_at !== null ? 'done' : leased ? 'claimed' : 'pending',
    claim:
      row.claimed_by === null
        ? null
        : { by: row.claimed_by, at: row.claimed_at as string, expiresAt: new Date(row.lease_expires_at as number).toISOString() },
    answer: row.answer === null ? null : JSON.parse(row.answer),
  };
}
