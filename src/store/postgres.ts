import pg from 'pg';
import { VisionopsError } from '../core/errors.js';
import type { PredictionRecord } from '../core/records/prediction.js';
import type { PredictionStore } from './store.js';

/** Schema changes, applied in order once each; a migration is never edited after it ships. */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'predictions',
    sql: `
      CREATE TABLE predictions (
        id TEXT PRIMARY KEY,
        created_at TIMESTAMPTZ NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('accept', 'review', 'reject')),
        image_sha256 TEXT NOT NULL,
        pipeline_id TEXT NOT NULL,
        pipeline_version TEXT NOT NULL,
        config_hash TEXT NOT NULL,
        blob TEXT,
        source JSONB NOT NULL,
        image JSONB NOT NULL,
        quality JSONB NOT NULL,
        reasons JSONB NOT NULL,
        result JSONB,
        lineage JSONB NOT NULL,
        timings JSONB NOT NULL
      );
      CREATE INDEX predictions_created_at ON predictions (created_at);
      CREATE INDEX predictions_decision ON predictions (decision, created_at);
      CREATE INDEX predictions_image_sha256 ON predictions (image_sha256);
    `,
  },
];

/** Any number: all visionops processes sharing one database serialise their migrations on it. */
const MIGRATION_LOCK = 0x76697369;

/** SQLSTATE classes that mean the server cannot take the work now, as opposed to a bad query. */
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];

interface Row {
  id: string;
  created_at: Date;
  decision: PredictionRecord['decision'];
  blob: string | null;
  source: PredictionRecord['source'];
  image: PredictionRecord['image'];
  quality: PredictionRecord['quality'];
  reasons: PredictionRecord['reasons'];
  result: PredictionRecord['result'];
  lineage: PredictionRecord['lineage'];
  timings: PredictionRecord['timings'];
}

/**
 * The prediction store for several visionops processes: one PostgreSQL database, scalar columns
 * for what is queried and JSONB for the rest, as in the SQLite store. The schema is migrated on
 * first use under an advisory lock, so workers starting together do not race.
 *
 * @example
 * const store = openPostgresStore({ url: 'postgres://127.0.0.1:5432/visionops' });
 * await store.save(record);
 */
export function openPostgresStore(options: { url: string; poolSize?: number }): PredictionStore {
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
  // An idle connection the server drops must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const where = describe(options.url);
  let closed = false;
  let migrated: Promise<void> | null = null;

  async function use<T>(work: (client: pg.Pool) => Promise<T>): Promise<T> {
    if (closed) throw new VisionopsError('STORE_UNAVAILABLE', `The prediction store ${where} is closed: restart visionops.`);
    try {
      migrated ??= migrate(pool).catch((error: unknown) => {
        migrated = null;
        throw error;
      });
      await migrated;
      return await work(pool);
    } catch (error) {
      if (isUnavailable(error)) throw unavailable(where, error);
      throw error;
    }
  }

  return {
    async save(record) {
      await use((db) =>
        db.query(
          `INSERT INTO predictions (id, created_at, decision, image_sha256, pipeline_id, pipeline_version, config_hash, blob,
                                    source, image, quality, reasons, result, lineage, timings)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
          [
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
          ],
        ),
      );
    },
    async get(id) {
      const { rows } = await use((db) => db.query<Row>('SELECT * FROM predictions WHERE id = $1', [id]));
      return rows.length === 0 ? null : toRecord(rows[0]);
    },
    async list({ limit, before }) {
      const { rows } = await use((db) =>
        before === undefined
          ? db.query<Row>('SELECT * FROM predictions ORDER BY id DESC LIMIT $1', [limit])
          : db.query<Row>('SELECT * FROM predictions WHERE id < $1 ORDER BY id DESC LIMIT $2', [before, limit]),
      );
      return rows.map(toRecord);
    },
    async ping() {
      await use((db) => db.query('SELECT 1'));
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM migrations');
    const applied = new Set(rows.map((row) => row.version));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO migrations (version, name, applied_at) VALUES ($1, $2, now())', [migration.version, migration.name]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

function toRecord(row: Row): PredictionRecord {
  return {
    id: row.id,
    createdAt: row.created_at.toISOString(),
    source: row.source,
    image: row.image,
    quality: row.quality,
    decision: row.decision,
    reasons: row.reasons,
    result: row.result,
    lineage: row.lineage,
    timings: row.timings,
    blob: row.blob,
  };
}

/** The server and database of a connection string, without its password, for messages and logs. */
function describe(url: string): string {
  try {
    const parsed = new URL(url);
    return `postgres://${parsed.host}${parsed.pathname}`;
  } catch {
    return 'postgres (unparseable url)';
  }
}

function isUnavailable(error: unknown): boolean {
  // pg's own connection failures carry no code, only these messages.
  if (error instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(error.message)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ETIMEDOUT, ENOTFOUND, ...
  return UNAVAILABLE_CLASSES.includes(code.slice(0, 2)) || code === '3D000' || code === '28000' || code === '28P01';
}

function unavailable(where: string, error: unknown): VisionopsError {
  const reason = error instanceof Error ? error.message || String((error as { code?: string }).code) : String(error);
  return new VisionopsError(
    'STORE_UNAVAILABLE',
    `The prediction store ${where} cannot be reached (${reason}): check that PostgreSQL runs and data.postgres.url is right.`,
    { store: where },
    { cause: error },
  );
}
