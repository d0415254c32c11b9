import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { VisionopsError } from '../core/errors.js';
import type { PredictionRecord } from '../core/records/prediction.js';
import { openSqliteDatabase, type Migration } from './sqlite-database.js';
import type { PredictionStore } from './store.js';

/** Schema changes, applied in order once each; a migration is never edited after it ships. */
const MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: 'predictions',
    sql: `
      CREATE TABLE predictions (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('accept', 'review', 'reject')),
        image_sha256 TEXT NOT NULL,
        pipeline_id TEXT NOT NULL,
        pipeline_version TEXT NOT NULL,
        config_hash TEXT NOT NULL,
        blob TEXT,
        source TEXT NOT NULL CHECK (json_valid(source)),
        image TEXT NOT NULL CHECK (json_valid(image)),
        quality TEXT NOT NULL CHECK (json_valid(quality)),
        reasons TEXT NOT NULL CHECK (json_valid(reasons)),
        result TEXT CHECK (result IS NULL OR json_valid(result)),
        lineage TEXT NOT NULL CHECK (json_valid(lineage)),
        timings TEXT NOT NULL CHECK (json_valid(timings))
      ) STRICT;
      CREATE INDEX predictions_created_at ON predictions (created_at);
      CREATE INDEX predictions_decision ON predictions (decision, created_at);
      CREATE INDEX predictions_image_sha256 ON predictions (image_sha256);
    `,
  },
];

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

/** SQLite result codes that mean the database can no longer be read or written, as opposed to a bad query. */
const UNAVAILABLE = /^SQLITE_(READONLY|IOERR|CANTOPEN|FULL|CORRUPT|NOTADB|BUSY|LOCKED|PERM|AUTH)/;

/**
 * The embedded prediction store: one SQLite file in WAL mode (readers never wait for the writer),
 * scalar columns for what is queried (time, decision, image hash) and JSON columns for the rest.
 *
 * @example
 * const store = openSqliteStore('data/visionops.db');
 * await store.save(record);
 */
export function openSqliteStore(file: string): PredictionStore {
  let db: Database.Database;
  try {
    db = openSqliteDatabase(file, 'migrations', MIGRATIONS);
  } catch (error) {
    throw unavailable(file, error);
  }
  const identity = fileIdentity(file);
  let closed = false;

  const insert = db.prepare(`
    INSERT INTO predictions (id, created_at, decision, image_sha256, pipeline_id, pipeline_version, config_hash, blob,
                             source, image, quality, reasons, result, lineage, timings)
    VALUES (@id, @createdAt, @decision, @imageSha256, @pipelineId, @pipelineVersion, @configHash, @blob,
            @source, @image, @quality, @reasons, @result, @lineage, @timings)`);
  const selectOne = db.prepare<[string], Row>('SELECT * FROM predictions WHERE id = ?');
  const selectNewest = db.prepare<[number], Row>('SELECT * FROM predictions ORDER BY id DESC LIMIT ?');
  const selectBefore = db.prepare<[string, number], Row>('SELECT * FROM predictions WHERE id < ? ORDER BY id DESC LIMIT ?');
  const selectOneValue = db.prepare('SELECT 1');

  /**
   * An open connection keeps writing into a file that was deleted under it, and those records
   * would vanish with the process: every call first checks the file is still the one it opened.
   */
  function use<T>(work: () => T): T {
    if (closed) throw new VisionopsError('STORE_UNAVAILABLE', `The prediction store ${file} is closed: restart visionops.`);
    const now = fileIdentity(file);
    if (now === null || now !== identity) {
      throw new VisionopsError(
        'STORE_UNAVAILABLE',
        `The database file ${file} was removed or replaced while visionops was running: restore it, or restart visionops to create a new one.`,
        { file },
      );
    }
    try {
      return work();
    } catch (error) {
      if (error instanceof VisionopsError) throw error;
      if (isUnavailable(error)) throw unavailable(file, error);
      throw error;
    }
  }

  return {
    async save(record) {
      use(() =>
        insert.run({
          id: record.id,
          createdAt: record.createdAt,
          decision: record.decision,
          imageSha256: record.image.sha256,
          pipelineId: record.lineage.pipeline.id,
          pipelineVersion: record.lineage.pipeline.version,
          configHash: record.lineage.configHash,
          blob: record.blob,
          source: JSON.stringify(record.source),
          image: JSON.stringify(record.image),
          quality: JSON.stringify(record.quality),
          reasons: JSON.stringify(record.reasons),
          result: record.result === null ? null : JSON.stringify(record.result),
          lineage: JSON.stringify(record.lineage),
          timings: JSON.stringify(record.timings),
        }),
      );
    },
    async get(id) {
      const row = use(() => selectOne.get(id));
      return row === undefined ? null : toRecord(row);
    },
    async list({ limit, before }) {
      const rows = use(() => (before === undefined ? selectNewest.all(limit) : selectBefore.all(before, limit)));
      return rows.map(toRecord);
    },
    async ping() {
      use(() => selectOneValue.get());
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
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

export function fileIdentity(file: string): string | null {
  try {
    const stat = statSync(file);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return null;
  }
}

export function isUnavailable(error: unknown): boolean {
  if (error instanceof Database.SqliteError) return UNAVAILABLE.test(error.code);
  // better-sqlite3 throws a TypeError for a connection that is no longer open.
  return error instanceof TypeError && /database connection is not open/i.test(error.message);
}

export function unavailable(file: string, error: unknown): VisionopsError {
  const reason = error instanceof Error ? error.message : String(error);
  return new VisionopsError(
    'STORE_UNAVAILABLE',
    `The prediction store ${file} cannot be used (${reason}): check that the data directory exists, is writable and has free space.`,
    { file },
    { cause: error },
  );
}
