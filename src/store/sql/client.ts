import { VisionopsError } from '../../core/errors.js';

export type SqlValue = string | number | null;

/** One statement of a transaction. */
export interface SqlStatement {
  sql: string;
  params: ReadonlyArray<SqlValue>;
}

/** Which port a statement serves, so an error says which store is down. */
export type StoreName = 'prediction store' | 'review store' | 'monitor store' | 'model registry';

/**
 * One database as the SQL stores see it, SQLite or PostgreSQL: the stores in this folder write
 * their SQL once against it, in the subset both dialects share (`?` placeholders, `ON CONFLICT`,
 * `RETURNING`, `FILTER`). Rows come back alike from both: JSON as text, times as ISO strings,
 * integers as numbers.
 */
export interface SqlClient {
  /** The file, or the server and database without the password: for messages. */
  readonly where: string;
  /** Appended to the query that picks a task to claim, so concurrent claimers skip each other's rows (empty where one writer at a time is the rule). */
  readonly claimLock: string;
  /**
   * Runs one statement and returns its rows (those of `RETURNING` too). Each statement is atomic
   * on its own. A database that cannot serve throws STORE_UNAVAILABLE naming `store`.
   */
  query<Row>(store: StoreName, sql: string, params?: ReadonlyArray<SqlValue>): Promise<Row[]>;
  /** Runs writing statements in order as one transaction: all of them take effect, or none. */
  transaction(store: StoreName, statements: ReadonlyArray<SqlStatement>): Promise<void>;
  /** Resolves when the database answers, quickly; throws STORE_UNAVAILABLE naming `store` otherwise. */
  ping(store: StoreName): Promise<void>;
  /** Each store opened on the client releases it once; the connection closes with the last one. */
  release(): Promise<void>;
}

/** A store's hold on the client: refuses work once the store is closed, and releases the client once. */
export function storeOn(client: SqlClient, store: StoreName) {
  let closed = false;
  const open = () => {
    if (closed) throw new VisionopsError('STORE_UNAVAILABLE', `The ${store} ${client.where} is closed: restart visionops.`, { store });
  };
  return {
    async query<Row>(sql: string, params: ReadonlyArray<SqlValue> = []): Promise<Row[]> {
      open();
      return client.query<Row>(store, sql, params);
    },
    async transaction(statements: ReadonlyArray<SqlStatement>): Promise<void> {
      open();
      await client.transaction(store, statements);
    },
    async ping(): Promise<void> {
      open();
      await client.ping(store);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await client.release();
    },
  };
}

/** Counts clients' users: `release` resolves `close` once every user has released. */
export function sharedClose(users: number, close: () => Promise<void>): () => Promise<void> {
  let left = users;
  return async () => {
    if (--left === 0) await close();
  };
}
