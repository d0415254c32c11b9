import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** One schema change; applied once, in version order, and never edited after it ships. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Applies the migrations not yet recorded in `table`, each in its own immediate transaction. Each
 * module that keeps tables in the shared database file has its own table of applied migrations, so
 * their version numbers never collide.
 */
export function applyMigrations(db: Database.Database, table: string, migrations: ReadonlyArray<Migration>): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
  const applied = new Set(db.prepare<[], { version: number }>(`SELECT version FROM ${table}`).all().map((row) => row.version));
  const record = db.prepare(`INSERT INTO ${table} (version, name, applied_at) VALUES (?, ?, ?)`);
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    }).immediate();
  }
}

/**
 * A connection to the visionops database file as every store opens it: WAL mode (readers never
 * wait for the writer), its module's migrations applied. Throws what SQLite throws; the caller
 * turns it into STORE_UNAVAILABLE.
 */
export function openSqliteDatabase(file: string, migrationsTable: string, migrations: ReadonlyArray<Migration>): Database.Database {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL is WAL's usual pairing: a crash of the process loses nothing; a power cut may lose the last commits.
  db.pragma('synchronous = NORMAL');
  // The server and a `visionops run` may share the file; a writer waits this long for the other.
  db.pragma('busy_timeout = 5000');
  applyMigrations(db, migrationsTable, migrations);
  return db;
}
