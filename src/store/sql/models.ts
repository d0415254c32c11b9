import { VisionopsError } from '../../core/errors.js';
import type { ModelVersion, StageAssignment, StageEvent } from '../../registry/types.js';
import type { DatasetEntry, DatasetReview, ModelStore, RunTally } from '../store.js';
import { storeOn, type SqlClient, type SqlStatement, type SqlValue } from './client.js';

interface VersionRow {
  model: string;
  version: string;
  sha256: string;
  preprocess_hash: string;
  signature: string;
  parent: string | null;
  origin: ModelVersion['origin'];
  dataset: string | null;
  created_at: string;
  manifest: string;
  notes: string;
}

interface EventRow {
  model: string;
  version: string;
  stage: StageEvent['stage'];
  weight: number | null;
  since: string;
  changed_by: string;
  reason: string;
}

const VERSION_COLUMNS = 'model, version, sha256, preprocess_hash, signature, parent, origin, dataset, created_at, manifest, notes';
/** At most this many prediction ids per `IN (...)` list, well under either database's parameter limit. */
const IN_CHUNK = 500;

/**
 * The model registry over either SQL database: versions (immutable once added), the current stage
 * of each, the history of stage changes, one row per model per run (what judging reads) and the
 * datasets exported from reviews.
 */
export function createSqlModelStore(client: SqlClient): ModelStore {
  const db = storeOn(client, 'model registry');
  const versionsWhere = async (where: string, params: SqlValue[]) =>
    (await db.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM model_versions ${where} ORDER BY created_at, version`, params)).map(toVersion);

  return {
    async addVersion(version) {
      await db.query(`INSERT INTO model_versions (${VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, [
        version.model,
        version.version,
        version.sha256,
        version.preprocessHash,
        JSON.stringify(version.signature),
        version.parent,
        version.origin,
        version.dataset,
        version.createdAt,
        JSON.stringify(version.manifest),
        JSON.stringify(version.notes),
      ]);
      const [kept] = await versionsWhere('WHERE model = ? AND version = ?', [version.model, version.version]);
      if (kept.sha256 !== version.sha256) {
        throw new VisionopsError(
          'MODEL_VERSION_EXISTS',
          `${version.model}@${version.version} is already registered with other weights (sha256 ${kept.sha256.slice(0, 12)}...): give the new weights a new version.`,
          { model: version.model, version: version.version },
        );
      }
      return kept;
    },
    async version(model, version) {
      const [found] = await versionsWhere('WHERE model = ? AND version = ?', [model, version]);
      return found ?? null;
    },
    versions: (model) => (model === undefined ? versionsWhere('', []) : versionsWhere('WHERE model = ?', [model])),
    async assignments(model) {
      const rows = await db.query<Omit<EventRow, 'changed_by' | 'reason'>>(
        `SELECT model, version, stage, weight, since FROM model_stages WHERE stage <> 'off'${model === undefined ? '' : ' AND model = ?'} ORDER BY model, since, version`,
        model === undefined ? [] : [model],
      );
      return rows.map((row): StageAssignment => ({ ...row }));
    },
    async setStages(events) {
      // Locks the slot's rows first, so that two changes of one slot at once (on PostgreSQL, where
      // each statement reads what was committed when it began) run one after the other.
      const statements: SqlStatement[] = [...new Set(events.map((event) => event.model))].map((model) => ({ sql: 'UPDATE model_stages SET since = since WHERE model = ?', params: [model] }));
      for (const event of events) {
        // One production and one canary per slot: whichever held the stage goes off, in the same transaction.
        if (event.stage === 'production' || event.stage === 'canary') {
          statements.push({
            sql: "UPDATE model_stages SET stage = 'off', weight = NULL, since = ? WHERE model = ? AND stage = ? AND version <> ?",
            params: [event.since, event.model, event.stage, event.version],
          });
        }
        statements.push(
          {
            sql: `INSERT INTO model_stages (model, version, stage, weight, since) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (model, version) DO UPDATE SET stage = excluded.stage, weight = excluded.weight, since = excluded.since`,
            params: [event.model, event.version, event.stage, event.weight, event.since],
          },
          {
            sql: 'INSERT INTO model_stage_events (model, version, stage, weight, since, changed_by, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
            params: [event.model, event.version, event.stage, event.weight, event.since, event.by, event.reason],
          },
        );
      }
      await db.transaction(statements);
    },
    async stageHistory(model, limit) {
      const rows = await db.query<EventRow>('SELECT model, version, stage, weight, since, changed_by, reason FROM model_stage_events WHERE model = ? ORDER BY id DESC LIMIT ?', [
        model,
        limit,
      ]);
      return rows.map(({ changed_by, ...row }) => ({ ...row, by: changed_by }));
    },
    async recordRuns(runs) {
      if (runs.length === 0) return;
      const values = runs.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      await db.query(
        `INSERT INTO model_runs (model, version, stage, at, prediction_id, decision, failed, latency_ms, agreement) VALUES ${values}`,
        runs.flatMap((run) => [run.model, run.version, run.stage, run.at, run.predictionId, run.decision, run.failed ? 1 : 0, run.latencyMs, run.agreement]),
      );
    },
    async runTally(model, version, stage, since) {
      const params = [model, version, stage, since];
      const [runs] = await db.query<Omit<RunTally, 'answered' | 'corrected' | 'audited' | 'auditConfirmed'>>(
        `SELECT COUNT(*) AS runs, COUNT(*) FILTER (WHERE failed = 1) AS failed, COUNT(*) FILTER (WHERE decision = 'accept') AS accept,
                COUNT(*) FILTER (WHERE decision = 'review') AS review, COUNT(*) FILTER (WHERE decision = 'reject') AS reject
         FROM model_runs WHERE model = ? AND version = ? AND stage = ? AND at >= ?`,
        params,
      );
      const [reviews] = await db.query<Pick<RunTally, 'answered' | 'corrected' | 'audited' | 'auditConfirmed'>>(
        `SELECT COUNT(*) AS answered, COUNT(*) FILTER (WHERE t.verdict = 'correct') AS corrected,
                COUNT(*) FILTER (WHERE t.kind = 'audit') AS audited, COUNT(*) FILTER (WHERE t.kind = 'audit' AND t.verdict = 'confirm') AS "auditConfirmed"
         FROM review_tasks t JOIN model_runs r ON r.prediction_id = t.prediction_id
         WHERE r.model = ? AND r.version = ? AND r.stage = ? AND r.at >= ? AND t.answered_at IS NOT NULL AND t.verdict <> 'unusable'`,
        params,
      );
      return { ...runs, ...reviews };
    },
    async runFigures(model, version, stage, since, limit) {
      const rows = await db.query<{ latency_ms: number; agreement: number | null }>(
        'SELECT latency_ms, agreement FROM model_runs WHERE model = ? AND version = ? AND stage = ? AND at >= ? AND failed = 0 ORDER BY id DESC LIMIT ?',
        [model, version, stage, since, limit],
      );
      return { latencies: rows.map((row) => row.latency_ms), agreements: rows.flatMap((row) => (row.agreement === null ? [] : [row.agreement])) };
    },
    async saveDataset(dataset) {
      await db.query('INSERT INTO datasets (id, created_at, format, predictions, model_versions) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [
        dataset.id,
        dataset.createdAt,
        dataset.format,
        JSON.stringify(dataset.predictions),
        JSON.stringify(dataset.modelVersions),
      ]);
    },
    async dataset(id) {
      const [row] = await db.query<{ id: string; created_at: string; format: string; predictions: string; model_versions: string }>(
        'SELECT id, created_at, format, predictions, model_versions FROM datasets WHERE id = ?',
        [id],
      );
      if (row === undefined) return null;
      return {
        id: row.id,
        createdAt: row.created_at,
        format: row.format,
        predictions: JSON.parse(row.predictions) as string[],
        modelVersions: JSON.parse(row.model_versions) as string[],
      } satisfies DatasetEntry;
    },
    async reviewsOf(predictionIds) {
      const found: DatasetReview[] = [];
      for (let at = 0; at < predictionIds.length; at += IN_CHUNK) {
        const chunk = predictionIds.slice(at, at + IN_CHUNK);
        const rows = await db.query<{ id: string; prediction_id: string; kind: DatasetReview['kind']; verdict: DatasetReview['verdict']; answered_at: string | null }>(
          `SELECT id, prediction_id, kind, verdict, answered_at FROM review_tasks WHERE prediction_id IN (${chunk.map(() => '?').join(', ')}) ORDER BY prediction_id`,
          chunk,
        );
        found.push(...rows.map((row) => ({ taskId: row.id, predictionId: row.prediction_id, kind: row.kind, verdict: row.verdict, answeredAt: row.answered_at })));
      }
      return found;
    },
    close: db.close,
  };
}

function toVersion(row: VersionRow): ModelVersion {
  return {
    model: row.model,
    version: row.version,
    sha256: row.sha256,
    preprocessHash: row.preprocess_hash,
    signature: JSON.parse(row.signature) as ModelVersion['signature'],
    parent: row.parent,
    origin: row.origin,
    dataset: row.dataset,
    createdAt: row.created_at,
    manifest: JSON.parse(row.manifest) as ModelVersion['manifest'],
    notes: JSON.parse(row.notes) as Record<string, unknown>,
  };
}
