import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { createFileBlobStore } from '../src/store/blobs.js';
import { isRecordId, newRecordId } from '../src/store/record-id.js';
import { openSqliteStore } from '../src/store/sqlite.js';
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

test('a saved record reads back equal, JSON columns and nulls included', async () => {
  const store = openSqliteStore(join(freshDir(), 'visionops.db'));
  const review = record('review');
  const rejected = { ...record('reject'), result: null };
  await store.save(review);
  await store.save(rejected);
  assert.deepEqual(await store.get(review.id), review);
  assert.deepEqual(await store.get(rejected.id), rejected);
  assert.equal(await store.get(newRecordId()), null);
  await store.close();
});

test('list pages newest first, from a record back', async () => {
  const store = openSqliteStore(join(freshDir(), 'visionops.db'));
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = record('accept');
    ids.push(r.id);
    await store.save(r);
  }
  const newest = await store.list({ limit: 2 });
  assert.deepEqual(newest.map((r) => r.id), [ids[4], ids[3]]);
  const older = await store.list({ limit: 10, before: ids[3] });
  assert.deepEqual(older.map((r) => r.id), [ids[2], ids[1], ids[0]]);
  await store.close();
});

test('the database is in WAL mode, migrated once, indexed, and its records survive a reopen', async () => {
  const file = join(freshDir(), 'visionops.db');
  const first = openSqliteStore(file);
  const kept = record('accept');
  await first.save(kept);
  await first.close();

  const second = openSqliteStore(file);
  assert.deepEqual(await second.get(kept.id), kept);
  await second.close();

  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(db.prepare('SELECT version, name FROM migrations').all(), [{ version: 1, name: 'predictions' }]);
  const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'predictions' AND sql IS NOT NULL").all();
  assert.deepEqual(indexes.map((row) => (row as { name: string }).name).sort(), [
    'predictions_created_at',
    'predictions_decision',
    'predictions_image_sha256',
  ]);
  db.close();
});

test('a database whose folder was removed is STORE_UNAVAILABLE, not a silent write into a deleted file', async () => {
  const dir = freshDir();
  const store = openSqliteStore(join(dir, 'visionops.db'));
  await store.save(record('accept'));
  await store.ping();
  rmSync(dir, { recursive: true, force: true });
  await rejectsWith(store.save(record('accept')), 'STORE_UNAVAILABLE');
  await rejectsWith(store.ping(), 'STORE_UNAVAILABLE');
  await rejectsWith(store.get(newRecordId()), 'STORE_UNAVAILABLE');
  await store.close();
});

test('a database replaced under the store is STORE_UNAVAILABLE', async () => {
  const dir = freshDir();
  const file = join(dir, 'visionops.db');
  const store = openSqliteStore(file);
  rmSync(file);
  writeFileSync(file, '');
  await rejectsWith(store.save(record('accept')), 'STORE_UNAVAILABLE');
  await store.close();
});

test('a closed store is STORE_UNAVAILABLE', async () => {
  const store = openSqliteStore(join(freshDir(), 'visionops.db'));
  await store.close();
  await rejectsWith(store.save(record('accept')), 'STORE_UNAVAILABLE');
  await rejectsWith(store.ping(), 'STORE_UNAVAILABLE');
});

test('a store that cannot be opened is STORE_UNAVAILABLE', () => {
  const blocker = join(freshDir());
  writeFileSync(blocker, 'a file where the data folder should be');
  assert.throws(() => openSqliteStore(join(blocker, 'visionops.db')), { code: 'STORE_UNAVAILABLE' });
});

test('saving an id twice fails instead of overwriting', async () => {
  const store = openSqliteStore(join(freshDir(), 'visionops.db'));
  const r = record('accept');
  await store.save(r);
  await assert.rejects(store.save({ ...r, decision: 'reject' }));
  assert.equal((await store.get(r.id))?.decision, 'accept');
  await store.close();
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
