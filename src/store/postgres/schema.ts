/** One schema change; applied once, in version order, and never edited after it ships. */
export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The PostgreSQL schema, every store's tables in one ordered list (version 1 is what earlier
 * releases made).
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<PostgresMigration> = [
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
  {
    version: 2,
    name: 'review_tasks',
    sql: `
      CREATE TABLE review_tasks (
        id TEXT PRIMARY KEY,
        prediction_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('review', 'audit')),
        created_at TIMESTAMPTZ NOT NULL,
        model_version TEXT NOT NULL,
        blob TEXT NOT NULL,
        model_output JSONB NOT NULL,
        claimed_by TEXT,
        claimed_at TIMESTAMPTZ,
        lease_expires_at BIGINT,
        answered_at TIMESTAMPTZ,
        verdict TEXT CHECK (verdict IS NULL OR verdict IN ('confirm', 'correct', 'unusable')),
        answer JSONB,
        lines_reviewed INTEGER,
        lines_changed INTEGER,
        lines_added INTEGER
      );
      CREATE INDEX review_tasks_open ON review_tasks (answered_at, lease_expires_at);
      CREATE INDEX review_tasks_answered ON review_tasks (answered_at, id) WHERE answered_at IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'monitor',
    sql: `
      CREATE TABLE alert_transitions (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rule TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
        since TEXT NOT NULL,
        message TEXT NOT NULL,
        details JSONB NOT NULL
      );
      CREATE TABLE reference_profile (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        profile JSONB NOT NULL
      );
    `,
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
        signature JSONB NOT NULL,
        parent TEXT,
        origin TEXT NOT NULL CHECK (origin IN ('builtin', 'quantize', 'import')),
        dataset TEXT,
        created_at TEXT NOT NULL,
        manifest JSONB NOT NULL,
        notes JSONB NOT NULL,
        PRIMARY KEY (model, version)
      );
      CREATE TABLE model_stages (
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ('production', 'canary', 'shadow', 'off')),
        weight DOUBLE PRECISION,
        since TEXT NOT NULL,
        PRIMARY KEY (model, version)
      );
      CREATE TABLE model_stage_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        stage TEXT NOT NULL,
        weight DOUBLE PRECISION,
        since TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE INDEX model_stage_events_model ON model_stage_events (model, id);
      CREATE TABLE model_runs (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ('production', 'canary', 'shadow')),
        at TEXT NOT NULL,
        prediction_id TEXT,
        decision TEXT,
        failed INTEGER NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        agreement DOUBLE PRECISION
      );
      CREATE INDEX model_runs_version ON model_runs (model, version, stage, at);
      CREATE INDEX model_runs_prediction ON model_runs (prediction_id);
      CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        format TEXT NOT NULL,
        predictions JSONB NOT NULL,
        model_versions JSONB NOT NULL
      );
    `,
  },
];
