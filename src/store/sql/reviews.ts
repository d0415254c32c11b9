import { VisionopsError } from '../../core/errors.js';
import { addedCount, type ReviewAnswer, type ReviewKind, type ReviewStatus, type ReviewTally, type ReviewTask } from '../../core/records/review.js';
import { newRecordId } from '../record-id.js';
import type { ReviewStore } from '../store.js';
import { storeOn, type SqlClient, type SqlValue } from './client.js';

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

interface TallyRow {
  model_version: string;
  kind: ReviewKind;
  answered: number;
  unusable: number;
  lines_reviewed: number | null;
  lines_changed: number | null;
  lines_added: number | null;
}

/** SQL conditions for each status; each takes the time (milliseconds since the epoch) as its parameters. */
const STATUS: Record<ReviewStatus, { where: string; nows: number }> = {
  pending: { where: 'answered_at IS NULL AND (lease_expires_at IS NULL OR lease_expires_at <= ?)', nows: 1 },
  claimed: { where: 'answered_at IS NULL AND lease_expires_at > ?', nows: 1 },
  done: { where: 'answered_at IS NOT NULL', nows: 0 },
};
const nowParams = (status: ReviewStatus, now: number): number[] => Array<number>(STATUS[status].nows).fill(now);

export interface ReviewStoreOptions {
  /** Milliseconds since the epoch; tests pass their own clock to expire leases without waiting. */
  now?: () => number;
}

/**
 * Review tasks over either SQL database. Every change is one statement: a claim picks and leases
 * the oldest pending task in one UPDATE (PostgreSQL skips rows another claim holds, SQLite takes
 * the write lock first), and an answer is kept only by an UPDATE whose condition is the lease,
 * so two reviewers never hold one task and a late answer never overwrites.
 */
export function createSqlReviewStore(client: SqlClient, { now = Date.now }: ReviewStoreOptions = {}): ReviewStore {
  const db = storeOn(client, 'review store');
  const tasks = async (sql: string, params: SqlValue[], at = now()) => (await db.query<Row>(sql, params)).map((row) => toTask(row, at));
  const one = async (sql: string, params: SqlValue[]) => (await tasks(sql, params))[0] ?? null;

  return {
    async create(task) {
      const at = now();
      await db.query(
        `INSERT INTO review_tasks (id, prediction_id, kind, created_at, model_version, blob, model_output)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (prediction_id) DO NOTHING`,
        [newRecordId(at), task.predictionId, task.kind, new Date(at).toISOString(), task.modelVersion, task.blob, JSON.stringify(task.modelOutput)],
      );
      return (await one('SELECT * FROM review_tasks WHERE prediction_id = ?', [task.predictionId])) as ReviewTask;
    },
    get: (id) => one('SELECT * FROM review_tasks WHERE id = ?', [id]),
    async list({ status, limit, before }) {
      const at = now();
      const conditions = ['1 = 1'];
      const params: SqlValue[] = [];
      if (status !== undefined) {
        conditions.push(STATUS[status].where);
        params.push(...nowParams(status, at));
      }
      if (before !== undefined) {
        conditions.push('id < ?');
        params.push(before);
      }
      return tasks(`SELECT * FROM review_tasks WHERE ${conditions.join(' AND ')} ORDER BY id DESC LIMIT ?`, [...params, limit], at);
    },
    async claim(reviewer, leaseMs) {
      const at = now();
      return one(
        `UPDATE review_tasks SET claimed_by = ?, claimed_at = ?, lease_expires_at = ?
         WHERE id = (SELECT id FROM review_tasks WHERE ${STATUS.pending.where} ORDER BY kind = 'audit', id LIMIT 1${client.claimLock})
         RETURNING *`,
        [reviewer, new Date(at).toISOString(), at + leaseMs, ...nowParams('pending', at)],
      );
    },
    async answer(id, answer) {
      const kept = await one(
        `UPDATE review_tasks SET answered_at = ?, verdict = ?, answer = ?, lines_reviewed = ?, lines_changed = ?, lines_added = ?
         WHERE id = ? AND answered_at IS NULL AND claimed_by = ? AND lease_expires_at > ?
         RETURNING *`,
        [answer.at, answer.verdict, JSON.stringify(answer), answer.linesReviewed, answer.linesChanged, addedCount(answer), id, answer.by, now()],
      );
      if (kept !== null) return kept;
      const [row] = await db.query<Row>('SELECT * FROM review_tasks WHERE id = ?', [id]);
      throw whyNotKept(id, row, answer, now());
    },
    async counts() {
      const at = now();
      const [row] = await db.query<Record<ReviewStatus, number>>(
        `SELECT COUNT(*) FILTER (WHERE ${STATUS.pending.where}) AS pending, COUNT(*) FILTER (WHERE ${STATUS.claimed.where}) AS claimed,
                COUNT(*) FILTER (WHERE ${STATUS.done.where}) AS done
         FROM review_tasks`,
        [...nowParams('pending', at), ...nowParams('claimed', at)],
      );
      return { pending: Number(row.pending), claimed: Number(row.claimed), done: Number(row.done) };
    },
    async tallies() {
      const rows = await db.query<TallyRow>(
        `SELECT model_version, kind, COUNT(*) AS answered, COUNT(*) FILTER (WHERE verdict = 'unusable') AS unusable,
                SUM(lines_reviewed) AS lines_reviewed, SUM(lines_changed) AS lines_changed, SUM(lines_added) AS lines_added
         FROM review_tasks WHERE answered_at IS NOT NULL
         GROUP BY model_version, kind ORDER BY model_version, kind`,
      );
      return rows.map(toTally);
    },
    answered: ({ since }) =>
      since === undefined
        ? tasks('SELECT * FROM review_tasks WHERE answered_at IS NOT NULL ORDER BY answered_at, id', [])
        : tasks('SELECT * FROM review_tasks WHERE answered_at >= ? ORDER BY answered_at, id', [since]),
    close: db.close,
  };
}

/** The error an answer gets when the UPDATE guarded by the lease kept nothing, from the task as it is now. */
function whyNotKept(id: string, row: Row | undefined, answer: ReviewAnswer, now: number): VisionopsError {
  if (row === undefined) return new VisionopsError('TASK_NOT_FOUND', `There is no review task ${id}: list the tasks with GET /v1/reviews.`);
  if (row.answered_at !== null) {
    return new VisionopsError('TASK_ALREADY_ANSWERED', `Task ${id} was answered at ${row.answered_at}: claim another with POST /v1/reviews/claim.`);
  }
  const expiresAt = row.lease_expires_at ?? 0;
  if (row.claimed_by !== answer.by) {
    const holder = row.claimed_by === null || expiresAt <= now ? 'nobody' : 'another reviewer';
    return new VisionopsError('TASK_NOT_CLAIMED', `Task ${id} is claimed by ${holder}, not by you: claim a task with POST /v1/reviews/claim, then answer it.`);
  }
  return new VisionopsError(
    'LEASE_EXPIRED',
    `Your claim on task ${id} expired at ${new Date(expiresAt).toISOString()} and the task went back to the queue: claim again (review.leaseSeconds sets how long a claim lasts).`,
  );
}

function toTally(row: TallyRow): ReviewTally {
  return {
    modelVersion: row.model_version,
    kind: row.kind,
    answered: Number(row.answered),
    unusable: Number(row.unusable),
    linesReviewed: Number(row.lines_reviewed ?? 0),
    linesChanged: Number(row.lines_changed ?? 0),
    linesAdded: Number(row.lines_added ?? 0),
  };
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
