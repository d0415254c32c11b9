import type Database from 'better-sqlite3';

/** One schema change; applied once, in version order, and never edited after it ships. */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
  /** Work SQL alone cannot do, run in the same transaction after `sql`; `file` is the database file. */
  apply?: (db: Database.Database, file: string) => void;
}

/**
 * Applies the migrations not yet recorded in the `migrations` table, each in its own immediate
 * transaction, so two processes opening one file apply each migration once.
 */
export function applyMigrations(db: Database.Database, file: string, migrations: ReadonlyArray<SqliteMigration>): void {
  db.exec('CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT');
  const applied = db.prepare<[number], { version: number }>('SELECT version FROM migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    db.transaction(() => {
      if (applied.get(migration.version) !== undefined) return;
      db.exec(migration.sql);
      migration.apply?.(db, file);
      record.run(migration.version, migration.name, new Date().toISOString());
    }).immediate();
  }
}
