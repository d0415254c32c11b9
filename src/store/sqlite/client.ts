import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { VisionopsError } from '../../core/errors.js';
import { sharedClose, type SqlClient, type SqlValue, type StoreName } from '../sql/client.js';
import { applyMigrations } from './migrate.js';
import { SQLITE_MIGRATIONS } from './schema.js';

/** SQLite result codes that mean the database can no longer be read or written, as opposed to a bad query. */
const UNAVAILABLE = /^SQLITE_(READONLY|IOERR|CANTOPEN|FULL|CORRUPT|NOTADB|BUSY|LOCKED|PERM|AUTH)/;

/**
 * One connection to the visionops database file, shared by `users` stores: WAL mode (readers
 * never wait for the writer), synchronous=NORMAL, a busy timeout for the other processes on the
 * file, and the schema migrated. Each writing statement runs in an immediate transaction, so the
 * write lock is taken before its rows are read: a claim in another process waits instead of
 * failing or taking the same task.
 */
export function openSqliteClient(file: string, users: number): SqlClient {
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    // NORMAL is WAL's usual pairing: a crash of the process loses nothing; a power cut may lose the last commits.
    db.pragma('synchronous = NORMAL');
    // The server and a `visionops run` may share the file; a writer waits this long for the other.
    db.pragma('busy_timeout = 5000');
    applyMigrations(db, file, SQLITE_MIGRATIONS);
  } catch (error) {
    db?.close();
    throw unavailable('database', file, error);
  }
  const open = db;
  const identity = fileIdentity(file);
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) statements.set(sql, (statement = open.prepare(sql)));
    return statement;
  };
  const run = (sql: string, params: ReadonlyArray<SqlValue>) => {
    const statement = prepared(sql);
    const execute = () => (statement.reader ? statement.all(...params) : (statement.run(...params), []));
    return statement.readonly ? execute() : open.transaction(execute).immediate();
  };

  /**
   * An open connection keeps writing into a file that was deleted under it, and those records
   * would vanish with the process: every call first checks the file is still the one it opened.
   */
  function use<T>(store: StoreName, work: () => T): T {
    const now = fileIdentity(file);
    if (now === null || now !== identity) {
      throw new VisionopsError(
        'STORE_UNAVAILABLE',
        `The database file ${file} of the ${store} was removed or replaced while visionops was running: restore it, or restart visionops to create a new one.`,
        { store, file },
      );
    }
    try {
      return work();
    } catch (error) {
      if (isUnavailable(error)) throw unavailable(store, file, error);
      throw error;
    }
  }

  return {
    where: file,
    claimLock: '',
    query: async <Row>(store: StoreName, sql: string, params: ReadonlyArray<SqlValue> = []) => use(store, () => run(sql, params) as Row[]),
    transaction: async (store, list) =>
      use(store, () => open.transaction(() => list.forEach(({ sql, params }) => prepared(sql).run(...params))).immediate()),
    ping: async (store) => void use(store, () => run('SELECT 1', [])),
    release: sharedClose(users, async () => void open.close()),
  };
}

function fileIdentity(file: string): string | null {
  try {
    const stat = statSync(file);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return null;
  }
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof Database.SqliteError) return UNAVAILABLE.test(error.code);
  // better-sqlite3 throws a TypeError for a connection that is no longer open.
  return error instanceof TypeError && /database connection is not open/i.test(error.message);
}

function unavailable(store: StoreName | 'database', file: string, error: unknown): VisionopsError {
  const reason = error instanceof Error ? error.message : String(error);
  return new VisionopsError(
    'STORE_UNAVAILABLE',
    `The ${store} ${file} cannot be used (${reason}): check that the data directory exists, is writable and has free space.`,
    { store, file },
    { cause: error },
  );
}
