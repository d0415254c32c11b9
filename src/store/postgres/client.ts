import pg from 'pg';
import { VisionopsError } from '../../core/errors.js';
import { sharedClose, type SqlClient, type SqlValue, type StoreName } from '../sql/client.js';
import { POSTGRES_MIGRATIONS } from './schema.js';

/** How to reach PostgreSQL and how long to wait for it (`data.postgres` in the configuration). */
export interface PostgresOptions {
  url: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
  keepAliveDelayMs?: number;
  pingTimeoutMs?: number;
}

/** Any number: all visionops processes sharing one database serialise their migrations on it. */
const MIGRATION_LOCK = 0x76697369;

/** SQLSTATE classes that mean the server cannot take the work now, as opposed to a bad query. */
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];

/** Past the server's statement timeout, the client stops waiting too: a server that went silent never answers. */
const CLIENT_TIMEOUT_MARGIN_MS = 1000;

/** Rows as the SQL stores expect them from either database: JSON as text, times as ISO strings, 64-bit integers and sums as numbers. */
const PARSERS = new Map<number, (text: string) => unknown>([
  [pg.types.builtins.INT8, Number],
  [pg.types.builtins.NUMERIC, Number],
  [pg.types.builtins.JSON, (text) => text],
  [pg.types.builtins.JSONB, (text) => text],
  [pg.types.builtins.TIMESTAMPTZ, (text) => (pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (text: string) => Date)(text).toISOString()],
]);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => PARSERS.get(oid) ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * A pool of connections to one PostgreSQL database, shared by `users` stores, that recovers on
 * its own: connecting, every statement and an idle transaction are bounded in time, TCP
 * keepalive notices a silent server, and a connection that failed (its query timed out, the
 * server went away) is dropped from the pool, never handed out again; the next query opens a
 * new one, so the stores serve again as soon as the database is back. The schema is migrated on
 * first use under an advisory lock, so processes starting together do not race.
 */
export function openPostgresClient(options: PostgresOptions, users: number): SqlClient {
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const pingTimeoutMs = options.pingTimeoutMs ?? 1000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 60_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: options.keepAliveDelayMs ?? 10_000,
    types,
  });
  // An idle connection the server drops must not crash the process: the pool removes it and the next query reconnects.
  pool.on('error', () => {});
  const where = describe(options.url);
  let migrated: Promise<void> | null = null;
  const placeholders = new Map<string, string>();

  const ready = () =>
    (migrated ??= migrate(pool).catch((error: unknown) => {
      migrated = null;
      throw error;
    }));

  async function query<Row>(store: StoreName, sql: string, params: ReadonlyArray<SqlValue>, timeoutMs?: number): Promise<Row[]> {
    try {
      await ready();
      // pool.query hands a connection back with the error of its query, which removes it from the pool.
      // query_timeout per query is read by pg's client but missing from its types.
      const config = { text: numbered(placeholders, sql), values: [...params], query_timeout: timeoutMs } as pg.QueryConfig<SqlValue[]>;
      const result = await pool.query(config);
      return result.rows as Row[];
    } catch (error) {
      throw isUnavailable(error) ? unavailable(store, where, error) : error;
    }
  }

  return {
    where,
    claimLock: ' FOR UPDATE SKIP LOCKED',
    query: (store, sql, params = []) => query(store, sql, params),
    async transaction(store, statements) {
      try {
        await ready();
        await inTransaction(pool, async (client) => {
          for (const { sql, params } of statements) await client.query(numbered(placeholders, sql), [...params]);
        });
      } catch (error) {
        throw isUnavailable(error) ? unavailable(store, where, error) : error;
      }
    },
    async ping(store) {
      let timer: NodeJS.Timeout | undefined;
      const answer = query(store, 'SELECT 1', [], pingTimeoutMs);
      // Waiting for a free or new connection is not bounded by the query timeout: the race bounds the whole ping.
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(unavailable(store, where, new Error(`no answer within ${pingTimeoutMs} ms`))), pingTimeoutMs);
      });
      answer.catch(() => {});
      try {
        await Promise.race([answer, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    release: sharedClose(users, () => pool.end()),
  };
}

/** The SQL stores write `?`; PostgreSQL numbers its parameters. */
function numbered(cache: Map<string, string>, sql: string): string {
  let text = cache.get(sql);
  if (text === undefined) {
    let n = 0;
    cache.set(sql, (text = sql.replace(/\?/g, () => `$${++n}`)));
  }
  return text;
}

async function migrate(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM migrations');
    const applied = new Set(rows.map((row) => row.version));
    for (const migration of POSTGRES_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO migrations (version, name, applied_at) VALUES ($1, $2, now())', [migration.version, migration.name]);
    }
  });
}

/** Runs `work` on one connection between BEGIN and COMMIT; any error rolls it all back. */
async function inTransaction(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (error) {
    failure = error;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    // Handed back with its error, a connection is closed instead of pooled.
    client.release(failure instanceof Error ? failure : undefined);
  }
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
  if (error instanceof VisionopsError) return false;
  // pg's own connection failures and timeouts carry no code, only these messages.
  if (error instanceof Error && /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error/i.test(error.message)) {
    return true;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ETIMEDOUT, ENOTFOUND, ...
  return UNAVAILABLE_CLASSES.includes(code.slice(0, 2)) || code === '3D000' || code === '28000' || code === '28P01';
}

function unavailable(store: StoreName, where: string, error: unknown): VisionopsError {
  const reason = error instanceof Error ? error.message || String((error as { code?: string }).code) : String(error);
  return new VisionopsError(
    'STORE_UNAVAILABLE',
    `The ${store} ${where} cannot be reached (${reason}): check that PostgreSQL runs and data.postgres.url is right.`,
    { store, at: where },
    { cause: error },
  );
}
