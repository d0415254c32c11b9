import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../src/config/load.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { createVisionops } from '../src/app/visionops.js';
import { openPostgresStore } from '../src/store/postgres.js';
import { newRecordId } from '../src/store/record-id.js';
import { renderDocument } from './fixtures/documents.js';
import { freshSchema } from './fixtures/postgres.js';
import { record } from './fixtures/records.js';

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

test('PostgreSQL: a saved record reads back equal, JSONB columns and nulls included', async () => {
  const store = openPostgresStore({ url: schema.url });
  try {
    const review = record('review');
    const rejected = { ...record('reject'), result: null };
    await store.save(review);
    await store.save(rejected);
    assert.deepEqual(await store.get(review.id), review);
    assert.deepEqual(await store.get(rejected.id), rejected);
    assert.equal(await store.get(newRecordId()), null);
  } finally {
    await store.close();
  }
});

test('PostgreSQL: list pages newest first, from a record back', async () => {
  const store = openPostgresStore({ url: schema.url });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = record('accept');
      ids.push(r.id);
      await store.save(r);
    }
    const newest = await store.list({ limit: 2 });
    assert.deepEqual(newest.map((r) => r.id), [ids[4], ids[3]]);
    const older = await store.list({ limit: 3, before: ids[3] });
    assert.deepEqual(older.map((r) => r.id), [ids[2], ids[1], ids[0]]);
  } finally {
    await store.close();
  }
});

test('PostgreSQL: processes starting together migrate once and share the records', async () => {
  const fresh = await freshSchema();
  const stores = [1, 2, 3].map(() => openPostgresStore({ url: fresh.url }));
  try {
    const saved = [record('accept'), record('review'), record('reject')];
    await Promise.all(stores.map((store, i) => store.save(saved[i])));
    for (const r of saved) assert.equal((await stores[0].get(r.id))?.decision, r.decision);
    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    const { rows } = await client.query('SELECT version FROM migrations');
    await client.end();
    assert.deepEqual(rows.map((row) => row.version), [1]);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
    await fresh.drop();
  }
});

test('PostgreSQL: saving an id twice fails instead of overwriting', async () => {
  const store = openPostgresStore({ url: schema.url });
  try {
    const first = record('accept');
    await store.save(first);
    await assert.rejects(store.save({ ...first, decision: 'reject' }));
    assert.equal((await store.get(first.id))?.decision, 'accept');
  } finally {
    await store.close();
  }
});

test('PostgreSQL: a server that does not answer, and a closed store, are STORE_UNAVAILABLE without the password', async () => {
  const unreachable = openPostgresStore({ url: 'postgres://someone:secret@127.0.0.1:1/visionops' });
  await rejectsWith(unreachable.ping(), 'STORE_UNAVAILABLE');
  await rejectsWith(unreachable.save(record('accept')), 'STORE_UNAVAILABLE');
  await assert.rejects(unreachable.ping(), (error: Error) => !error.message.includes('secret'));
  await unreachable.close();

  const store = openPostgresStore({ url: schema.url });
  await store.ping();
  await store.close();
  await rejectsWith(store.get(newRecordId()), 'STORE_UNAVAILABLE');
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
