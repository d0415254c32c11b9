import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../src/config/load.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { createVisionops } from '../src/app/visionops.js';
import { openPostgresStores, type PostgresOptions } from '../src/store/postgres/index.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/schema.js';
import { newRecordId } from '../src/store/record-id.js';
import { renderDocument } from './fixtures/documents.js';
import { freshSchema } from './fixtures/postgres.js';
import { record } from './fixtures/records.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

let schema: Awaited<ReturnType<typeof freshSchema>>;

before(async () => {
  schema = await freshSchema();
});

after(async () => {
  await schema.drop();
});

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: { code?: string }) => {
    assert.equal(error.code, code);
    return true;
  });
}

test('PostgreSQL: processes starting together migrate once and share the records', async () => {
  const fresh = await freshSchema();
  const stores = [1, 2, 3].map(() => openPostgresStores({ url: fresh.url }));
  try {
    const saved = [record('accept'), record('review'), record('reject')];
    await Promise.all(stores.map((store, i) => store.predictions.save(saved[i])));
    for (const r of saved) assert.equal((await stores[0].predictions.get(r.id))?.decision, r.decision);
    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    const { rows } = await client.query('SELECT version FROM migrations ORDER BY version');
    await client.end();
    assert.deepEqual(rows.map((row) => row.version), POSTGRES_MIGRATIONS.map((migration) => migration.version));
  } finally {
    await Promise.all(stores.map((store) => store.close()));
    await fresh.drop();
  }
});

test('PostgreSQL: a server that does not answer, and a closed store, are STORE_UNAVAILABLE without the password', async () => {
  const unreachable = openPostgresStores({ url: 'postgres://someone:secret@127.0.0.1:1/visionops' });
  await rejectsWith(unreachable.predictions.ping(), 'STORE_UNAVAILABLE');
  await rejectsWith(unreachable.predictions.save(record('accept')), 'STORE_UNAVAILABLE');
  await assert.rejects(unreachable.predictions.ping(), (error: Error) => !error.message.includes('secret') && /prediction store/.test(error.message));
  await assert.rejects(unreachable.reviews.counts(), (error: Error) => /review store/.test(error.message));
  await assert.rejects(unreachable.monitor.latestStates(), (error: Error) => /monitor store/.test(error.message));
  await unreachable.close();

  const { predictions, close } = openPostgresStores({ url: schema.url });
  await predictions.ping();
  await close();
  await rejectsWith(predictions.get(newRecordId()), 'STORE_UNAVAILABLE');
});

/** Stores reaching the test PostgreSQL through `proxy`, with short timeouts so a vanished server is noticed quickly. */
function throughProxy(port: number, options: Partial<PostgresOptions> = {}) {
  const url = new URL(schema.url);
  url.port = String(port);
  return openPostgresStores({ url: url.toString(), poolSize: 4, connectTimeoutMs: 1500, statementTimeoutMs: 1000, pingTimeoutMs: 500, ...options });
}

/** Tries `work` until it succeeds, for at most `attempts` tries 200 ms apart; returns how many failed first. */
async function eventually(work: () => Promise<unknown>, attempts = 50): Promise<number> {
  for (let failed = 0; ; failed++) {
    try {
      await work();
      return failed;
    } catch (error) {
      if (failed + 1 >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

test('PostgreSQL going away: pings fail fast while it is gone, and the stores serve again soon after it returns', async () => {
  const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(schema.url).port || 5432) });
  const stores = throughProxy(await proxy.start());
  try {
    const before = await stores.predictions.save(record('accept'));
    await stores.predictions.ping();

    proxy.cut();
    // The pool's new connections go unanswered: the ping must give up on its own, while the server is still gone.
    await assert.rejects(stores.predictions.ping(), (error: { code?: string; message: string }) => {
      assert.equal(error.code, 'STORE_UNAVAILABLE');
      assert.match(error.message, /prediction store postgres:\/\/127\.0\.0\.1:\d+\/test/);
      return true;
    });
    await rejectsWith(stores.predictions.save(record('accept')), 'STORE_UNAVAILABLE');
    await rejectsWith(stores.reviews.counts(), 'STORE_UNAVAILABLE');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    proxy.restore();

    await eventually(() => stores.predictions.ping());
    assert.deepEqual(await stores.predictions.get(before.id), before, 'the records kept before are served again');
    const after = record('review');
    assert.deepEqual(await stores.predictions.save(after), after);
    assert.deepEqual(await stores.reviews.counts(), { pending: 0, claimed: 0, done: 0 });
  } finally {
    await stores.close();
    await proxy.stop();
  }
});

test('PostgreSQL gone silent mid-query: the timed-out connection is closed, never reused, and the next queries answer right', async () => {
  const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(schema.url).port || 5432) });
  const stores = throughProxy(await proxy.start(), { poolSize: 1 });
  try {
    const kept = await stores.predictions.save(record('accept'));
    const opened = proxy.opened;
    proxy.stall();
    await rejectsWith(stores.predictions.get(kept.id), 'STORE_UNAVAILABLE');
    proxy.restore();
    // Had the connection gone back to the pool, the late answer to the stalled query would be read as the next one's.
    for (let i = 0; i < 3; i++) {
      const fresh = record('reject');
      assert.deepEqual(await stores.predictions.save(fresh), fresh);
      assert.deepEqual(await stores.predictions.get(kept.id), kept);
    }
    assert.ok(proxy.opened > opened, 'a new connection replaced the one that timed out');
    await eventually(async () => assert.ok(proxy.closedByClient >= 1, 'the pool closed the connection whose query timed out'));
  } finally {
    await stores.close();
    await proxy.stop();
  }
});

test('PostgreSQL: a statement running past data.postgres.statementTimeoutMs is cancelled by the server', async () => {
  const fresh = await freshSchema();
  const stores = openPostgresStores({ url: fresh.url, statementTimeoutMs: 300 });
  const client = new pg.Client({ connectionString: fresh.url });
  try {
    await stores.predictions.ping();
    await client.connect();
    // A lock held elsewhere makes the store's insert wait until its statement timeout ends it.
    await client.query('BEGIN');
    await client.query('LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE');
    await rejectsWith(stores.predictions.save(record('accept')), 'STORE_UNAVAILABLE');
    await client.query('ROLLBACK');
    await stores.predictions.save(record('accept'));
  } finally {
    await client.end();
    await stores.close();
    await fresh.drop();
  }
});

test('the server keeps its records in PostgreSQL when data.store says so, and reports it unready when PostgreSQL goes away', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'visionops-pg-'));
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dir)}`, 'data.store="postgres"', `data.postgres.url=${JSON.stringify(schema.url)}`] });
  const pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
  const system = await createVisionops(config, { overrides: { pipelines: [pipeline] } });
  const app = await system.server();
  const gone = await createVisionops({ ...config, data: { ...config.data, postgres: { ...config.data.postgres, url: 'postgres://postgres@127.0.0.1:1/visionops' } } }, { overrides: { pipelines: [pipeline] } });
  const goneApp = await gone.server();
  try {
    const page = await renderDocument({ lines: ['Stored in PostgreSQL', 'Invoice 4471'], width: 900 });
    const posted = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: page });
    assert.equal(posted.statusCode, 200);
    const { id, decision } = posted.json();
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    const { rows } = await client.query('SELECT decision, lineage FROM predictions WHERE id = $1', [id]);
    await client.end();
    assert.equal(rows[0].decision, decision);
    assert.equal(rows[0].lineage.models.length, 3);
    assert.equal((await app.inject({ method: 'GET', url: `/v1/predictions/${id}` })).json().id, id);
    assert.deepEqual(readdirSync(dir, { recursive: true }).filter((name) => !String(name).startsWith('blobs')), [], 'with data.store=postgres no SQLite file is made');

    assert.equal((await goneApp.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    const refused = await goneApp.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: page });
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.json().error.code, 'STORE_UNAVAILABLE');
  } finally {
    await Promise.all([system.close(), gone.close()]);
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
