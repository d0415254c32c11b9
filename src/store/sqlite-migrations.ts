import type Database from 'better-sqlite3';

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
