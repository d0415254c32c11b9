import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { createFileBlobStore } from '../src/store/blobs.js';
import { isRecordId, newRecordId } from '../src/store/record-id.js';
import { openSqliteStores } from '../src/store/sqlite/index.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/schema.js';
import { record } from './fixtures/records.js';

const root = mkdtempSync(join(tmpdir(), 'visionops-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshDir = () => join(root, `case-${++folders}`);

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: { code?: string }) => {
    assert.equal(error.code, code);
    return true;
  });
}

/** The prediction store of a fresh SQLite file, with its siblings closed when it is. */
function openPredictions(file: string) {
  const stores = openSqliteStores(file);
  return { ...stores.predictions, close: stores.close };
}

test('the database is in WAL mode, migrated once, indexed, and its records survive a reopen', async () => {
  const file = join(freshDir(), 'visionops.db');
  const first = openPredictions(file);
  const kept = record('accept');
  await first.save(kept);
  await first.close();

  const second = openPredictions(file);
  assert.deepEqual(await second.get(kept.id), kept);
  await second.close();

  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(
    db.prepare('SELECT version, name FROM migrations ORDER BY version').all(),
    SQLITE_MIGRATIONS.map(({ version, name }) => ({ version, name })),
  );
  const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'predictions' AND sql IS NOT NULL").all();
  assert.deepEqual(indexes.map((row) => (row as { name: string }).name).sort(), [
    'predictions_created_at',
    'predictions_decision',
    'predictions_idempotency_key',
    'predictions_image_sha256',
  ]);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
  assert.deepEqual(tables.map((row) => (row as { name: string }).name), [
    'alert_transitions',
    'datasets',
    'migrations',
    'model_runs',
    'model_stage_events',
    'model_stages',
    'model_versions',
    'predictions',
    'reference_profile',
    'review_tasks',
  ]);
  db.close();
});

test('a database folder made by an earlier release opens with its records, review tasks and monitor.db state', async () => {
  const dir = freshDir();
  const file = join(dir, 'visionops.db');
  const kept = record('review');
  const [predictionsV1, reviewsV1, monitorV1] = SQLITE_MIGRATIONS;
  // What earlier releases wrote: predictions under `migrations`, review tasks under `review_migrations`, monitor state in monitor.db.
  mkdirSync(dir, { recursive: true });
  const old = new Database(file);
  old.exec('CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT');
  old.exec(predictionsV1.sql);
  old.prepare("INSERT INTO migrations VALUES (1, 'predictions', '2026-11-01T00:00:00.000Z')").run();
  old.exec(reviewsV1.sql);
  old.exec('CREATE TABLE review_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT');
  old.prepare("INSERT INTO review_migrations VALUES (1, 'review_tasks', '2026-11-01T00:00:00.000Z')").run();
  old.prepare(
    `INSERT INTO predictions (id, created_at, decision, image_sha256, pipeline_id, pipeline_version, config_hash, blob, source, image, quality, reasons, result, lineage, timings)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(kept.id, kept.createdAt, kept.decision, kept.image.sha256, kept.lineage.pipeline.id, kept.lineage.pipeline.version, kept.lineage.configHash, kept.blob,
    ...[kept.source, kept.image, kept.quality, kept.reasons, kept.result, kept.lineage, kept.timings].map((value) => JSON.stringify(value)));
  old.prepare("INSERT INTO review_tasks (id, prediction_id, kind, created_at, model_version, blob, model_output) VALUES (?, ?, 'review', ?, 'm@1', ?, ?)")
    .run(newRecordId(), kept.id, kept.createdAt, 'e'.repeat(64), JSON.stringify({ lines: [], rotation: 0, width: 10, height: 10 }));
  old.close();
  const monitorDb = new Database(join(dir, 'monitor.db'));
  monitorDb.exec(monitorV1.sql);
  const firing = { rule: 'drift', state: 'firing' as const, since: '2026-11-02T10:00:00.000Z', message: 'drifted', details: { mmd: 0.4 } };
  monitorDb.prepare('INSERT INTO alert_transitions (rule, state, since, message, details) VALUES (?, ?, ?, ?, ?)').run(firing.rule, firing.state, firing.since, firing.message, JSON.stringify(firing.details));
  monitorDb.prepare('INSERT INTO reference_profile (id, profile) VALUES (1, ?)').run(JSON.stringify({ version: 1, images: 30 }));
  monitorDb.close();

  for (let open = 0; open < 2; open++) {
    const stores = openSqliteStores(file);
    try {
      assert.deepEqual(await stores.predictions.get(kept.id), kept);
      assert.deepEqual((await stores.reviews.list({ limit: 10 })).map((task) => task.predictionId), [kept.id]);
      assert.deepEqual(await stores.monitor.transitions(10), [firing], open === 0 ? 'imported from monitor.db' : 'imported once, not twice');
      assert.equal((await stores.monitor.loadReference())?.images, 30);
      assert.deepEqual(await stores.predictions.save(record('accept'), { idempotencyKey: 'k' }), await stores.predictions.findByIdempotencyKey('k'));
    } finally {
      await stores.close();
    }
  }
  const db = new Database(file, { readonly: true });
  const legacyTable = db.prepare("SELECT name FROM sqlite_master WHERE name = 'review_migrations'").get();
  assert.equal(legacyTable, undefined, 'one table of migrations is left');
  db.close();
});

test('a writer killed mid-batch leaves the database intact with every committed record readable', async () => {
  const file = join(freshDir(), 'visionops.db');
  await openSqliteStores(file).close();
  const writer = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./helpers/sqlite-writer.ts', import.meta.url)), file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const committed: string[] = [];
  let partial = '';
  await new Promise<void>((resolve, reject) => {
    writer.on('error', reject);
    writer.on('exit', () => resolve());
    writer.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      committed.push(...lines);
      // Well into its writing, the writer dies without a chance to close or checkpoint anything.
      if (committed.length >= 300 && !writer.killed) writer.kill('SIGKILL');
    });
  });
  assert.equal(writer.signalCode, 'SIGKILL', 'the writer was killed, it did not finish');
  assert.ok(committed.length >= 300);
  const check = new Database(file, { readonly: true });
  assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
  check.close();
  const stores = openSqliteStores(file);
  try {
    for (const id of committed) assert.equal((await stores.predictions.get(id))?.id, id, `committed record ${id} is readable`);
    const total = (await stores.predictions.list({ limit: 100_000 })).length;
    assert.ok(total >= committed.length, `${total} records kept, at least the ${committed.length} reported committed`);
  } finally {
    await stores.close();
  }
});

test('a database whose folder was removed is STORE_UNAVAILABLE, not a silent write into a deleted file', async () => {
  const dir = freshDir();
  const store = openPredictions(join(dir, 'visionops.db'));
  await store.save(record('accept'));
  await store.ping();
  rmSync(dir, { recursive: true, force: true });
  await rejectsWith(store.save(record('accept')), 'STORE_UNAVAILABLE');
  await rejectsWith(store.ping(), 'STORE_UNAVAILABLE');
  await rejectsWith(store.get(newRecordId()), 'STORE_UNAVAILABLE');
  await store.close();
});

test('a database replaced under the store is STORE_UNAVAILABLE, naming the store', async () => {
  const dir = freshDir();
  const file = join(dir, 'visionops.db');
  const stores = openSqliteStores(file);
  rmSync(file);
  writeFileSync(file, '');
  await rejectsWith(stores.predictions.save(record('accept')), 'STORE_UNAVAILABLE');
  await assert.rejects(stores.reviews.claim('ana', 1000), /review store/);
  await assert.rejects(stores.monitor.loadReference(), /monitor store/);
  await stores.close();
});

test('a store that cannot be opened is STORE_UNAVAILABLE', () => {
  const blocker = join(freshDir());
  writeFileSync(blocker, 'a file where the data folder should be');
  assert.throws(() => openSqliteStores(join(blocker, 'visionops.db')), { code: 'STORE_UNAVAILABLE' });
});

test('blobs are content-addressed under ab/<sha256>, written once, and read back', async () => {
  const dir = freshDir();
  const blobs = createFileBlobStore(dir);
  const bytes = new Uint8Array([1, 2, 3, 4, 5]);
  const key = await blobs.put(bytes);
  assert.equal(key, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(await blobs.put(bytes.slice()), key);
  assert.deepEqual(readdirSync(join(dir, key.slice(0, 2))), [key]);
  assert.deepEqual(await blobs.get(key), bytes);
  assert.equal(await blobs.get('f'.repeat(64)), null);
  assert.equal(await blobs.get('../../etc/passwd'), null);
});

test('a blob that cannot be written is STORE_UNAVAILABLE', async () => {
  const blocker = freshDir();
  writeFileSync(blocker, 'a file where the blob folder should be');
  await rejectsWith(createFileBlobStore(blocker).put(new Uint8Array([9])), 'STORE_UNAVAILABLE');
});

test('record ids are UUIDv7 and sort in the order they were made, within a millisecond and when the clock steps back', () => {
  const at = Date.now();
  const ids = [newRecordId(at), newRecordId(at), newRecordId(at), newRecordId(at - 5_000), newRecordId(at + 1)];
  for (const id of ids) assert.ok(isRecordId(id), id);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(parseInt(ids[0].replace(/-/g, '').slice(0, 12), 16), at);
  assert.ok(!isRecordId('not-an-id'));
});
