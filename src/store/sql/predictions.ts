import { VisionopsError } from '../../core/errors.js';
import type { PredictionRecord } from '../../core/records/prediction.js';
import type { PredictionStore } from '../store.js';
import { storeOn, type SqlClient } from './client.js';

interface Row {
  id: string;
  created_at: string;
  decision: PredictionRecord['decision'];
  blob: string | null;
  source: string;
  image: string;
  quality: string;
  reasons: string;
  result: string | null;
  lineage: string;
  timings: string;
}

const INSERT = `
  INSERT INTO predictions (id, created_at, decision, image_sha256, pipeline_id, pipeline_version, config_hash, blob,
                           source, image, quality, reasons, result, lineage, timings, idempotency_key)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT DO NOTHING`;

/**
 * Prediction records over either SQL database: scalar columns for what is queried (time,
 * decision, image hash), JSON for the rest. A save is idempotent: the record's id, or the
 * idempotency key it comes with, names it, and saving it again returns the record kept first.
 */
export function createSqlPredictionStore(client: SqlClient): PredictionStore {
  const db = storeOn(client, 'prediction store');
  const one = async (sql: string, value: string) => {
    const [row] = await db.query<Row>(sql, [value]);
    return row === undefined ? null : toRecord(row);
  };
  const byKey = (key: string) => one('SELECT * FROM predictions WHERE idempotency_key = ?', key);
  const byId = (id: string) => one('SELECT * FROM predictions WHERE id = ?', id);

  return {
    async save(record, options = {}) {
      const key = options.idempotencyKey ?? null;
      await db.query(INSERT, [
        record.id,
        record.createdAt,
        record.decision,
        record.image.sha256,
        record.lineage.pipeline.id,
        record.lineage.pipeline.version,
        record.lineage.configHash,
        record.blob,
        JSON.stringify(record.source),
        JSON.stringify(record.image),
        JSON.stringify(record.quality),
        JSON.stringify(record.reasons),
        record.result === null ? null : JSON.stringify(record.result),
        JSON.stringify(record.lineage),
        JSON.stringify(record.timings),
        key,
      ]);
      // The insert did nothing when the key or the id was taken: what is kept under them is the answer.
      const kept = (key === null ? null : await byKey(key)) ?? (await byId(record.id));
      if (kept === null) throw new VisionopsError('INTERNAL', `Prediction ${record.id} was neither kept nor found: report this as a bug.`);
      return kept;
    },
    findByIdempotencyKey: byKey,
    get: byId,
    async list({ limit, before }) {
      const rows =
        before === undefined
          ? await db.query<Row>('SELECT * FROM predictions ORDER BY id DESC LIMIT ?', [limit])
          : await db.query<Row>('SELECT * FROM predictions WHERE id < ? ORDER BY id DESC LIMIT ?', [before, limit]);
      return rows.map(toRecord);
    },
    ping: db.ping,
    close: db.close,
  };
}

function toRecord(row: Row): PredictionRecord {
  return {
    id: row.id,
    createdAt: row.created_at,
    source: JSON.parse(row.source),
    image: JSON.parse(row.image),
    quality: JSON.parse(row.quality),
    decision: row.decision,
    reasons: JSON.parse(row.reasons),
    result: row.result === null ? null : JSON.parse(row.result),
    lineage: JSON.parse(row.lineage),
    timings: JSON.parse(row.timings),
    blob: row.blob,
  };
}
