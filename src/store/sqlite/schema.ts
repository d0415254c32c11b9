import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { SqliteMigration } from './migrate.js';

/**
 * The schema of `visionops.db`, every store's tables in one ordered list. Versions 1 and 2 are
 * what earlier releases made (review tasks then kept their own `review_migrations` table, which
 * version 2 retires); version 3 brings monitor state in from the separate `monitor.db`.
 */
export const SQLITE_MIGRATIONS: ReadonlyArray<SqliteMigration> = [
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
  {
    version: 2,
    name: 'review_tasks',
    // IF NOT EXISTS: a database from an earlier release already has the table, recorded in review_migrations.
    sql: `
      CREATE TABLE IF NOT EXISTS review_tasks (
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
      CREATE INDEX IF NOT EXISTS review_tasks_open ON review_tasks (answered_at, lease_expires_at);
      CREATE INDEX IF NOT EXISTS review_tasks_answered ON review_tasks (answered_at, id) WHERE answered_at IS NOT NULL;
      DROP TABLE IF EXISTS review_migrations;
    `,
  },
  {
    version: 3,
    name: 'monitor',
    sql: `
      CREATE TABLE alert_transitions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
        since TEXT NOT NULL,
        message TEXT NOT NULL,
        details TEXT NOT NULL CHECK (json_valid(details))
      ) STRICT;
      CREATE TABLE reference_profile (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        profile TEXT NOT NULL CHECK (json_valid(profile))
      ) STRICT;
    `,
    apply: importMonitorDb,
  },
  {
    version: 4,
    name: 'prediction idempotency keys',
    sql: `
      ALTER TABLE predictions ADD COLUMN idempotency_key TEXT;
      CREATE UNIQUE INDEX predictions_idempotency_key ON predictions (idempotency_key);
    `,
  },
  {
    version: 5,
    name: 'model registry',
    sql: `
      CREATE TABLE model_versions (
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        preprocess_hash TEXT NOT NULL,
        signature TEXT NOT NULL CHECK (json_valid(signature)),
        parent TEXT,
        origin TEXT NOT NULL CHECK (origin IN ('builtin', 'quantize', 'import')),
        dataset TEXT,
        created_at TEXT NOT NULL,
        manifest TEXT NOT NULL CHECK (json_valid(manifest)),
        notes TEXT NOT NULL CHECK (json_valid(notes)),
        PRIMARY KEY (model, version)
      ) STRICT;
      CREATE TABLE model_stages (
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ('production', 'canary', 'shadow', 'off')),
        weight REAL,
        since TEXT NOT NULL,
        PRIMARY KEY (model, version)
      ) STRICT;
      CREATE TABLE model_stage_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        stage TEXT NOT NULL,
        weight REAL,
        since TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        reason TEXT NOT NULL
      ) STRICT;
      CREATE INDEX model_stage_events_model ON model_stage_events (model, id);
      CREATE TABLE model_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ('production', 'canary', 'shadow')),
        at TEXT NOT NULL,
        prediction_id TEXT,
        decision TEXT,
        failed INTEGER NOT NULL,
        latency_ms REAL NOT NULL,
        agreement REAL
      ) STRICT;
      CREATE INDEX model_runs_version ON model_runs (model, version, stage, at);
      CREATE INDEX model_runs_prediction ON model_runs (prediction_id);
      CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        format TEXT NOT NULL,
        predictions TEXT NOT NULL CHECK (json_valid(predictions)),
        model_versions TEXT NOT NULL CHECK (json_valid(model_versions))
      ) STRICT;
    `,
  },
];

/**
 * Copies the alert history and reference profile of the `monitor.db` that earlier releases kept
 * beside `visionops.db`, once, as the monitor tables are created. The old file is left as it was
 * (nothing reads it any more; delete it when you like).
 */
function importMonitorDb(db: Database.Database, file: string): void {
  const legacy = join(dirname(file), 'monitor.db');
  if (!existsSync(legacy)) return;
  const old = new Database(legacy, { readonly: true, fileMustExist: true });
  try {
    const tables = new Set(old.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => row.name));
    if (tables.has('alert_transitions')) {
      const insert = db.prepare('INSERT INTO alert_transitions (id, rule, state, since, message, details) VALUES (@id, @rule, @state, @since, @message, @details)');
      for (const row of old.prepare('SELECT id, rule, state, since, message, details FROM alert_transitions ORDER BY id').iterate()) insert.run(row);
    }
    if (tables.has('reference_profile')) {
      const profile = old.prepare('SELECT id, profile FROM reference_profile').get();
      if (profile !== undefined) db.prepare('INSERT INTO reference_profile (id, profile) VALUES (@id, @profile)').run(profile);
    }
  } finally {
    old.close();
  }
}
