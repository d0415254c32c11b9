import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { AlertState } from '../src/core/monitor/alerts.js';
import type { ReferenceProfile } from '../src/core/monitor/profile.js';
import type { NewReviewTask, ReviewAnswer, ReviewKind } from '../src/core/records/review.js';
import { openPostgresStores } from '../src/store/postgres/index.js';
import { newRecordId } from '../src/store/record-id.js';
import type { SqlStores } from '../src/store/sql/stores.js';
import { openSqliteStores } from '../src/store/sqlite/index.js';
import { freshSchema } from './fixtures/postgres.js';
import { record } from './fixtures/records.js';
import { TestClock } from './helpers/review.js';

/** A place for one test's state; every `open` is another connection (or pool) to it, as another process would have. */
interface Place {
  open(now?: () => number): SqlStores;
  drop(): Promise<void>;
}

const root = mkdtempSync(join(tmpdir(), 'visionops-contract-'));
after(() => rmSync(root, { recursive: true, force: true }));
let files = 0;

const BACKENDS: Array<{ name: string; place: () => Promise<Place> }> = [
  {
    name: 'SQLite',
    place: async () => {
      const file = join(root, `case-${++files}`, 'visionops.db');
      return { open: (now) => openSqliteStores(file, { now }), drop: async () => {} };
    },
  },
  {
    name: 'PostgreSQL',
    place: async () => {
      // No skip: without PostgreSQL at 127.0.0.1:5432 this throws and the suite fails.
      const schema = await freshSchema();
      return { open: (now) => openPostgresStores({ url: schema.url, poolSize: 4 }, { now }), drop: schema.drop };
    },
  },
];

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: { code?: string }) => {
    assert.equal(error.code, code);
    return true;
  });
}

function newTask(kind: ReviewKind = 'review', modelVersion = 'det@1 + rec@1'): NewReviewTask {
  return {
    predictionId: newRecordId(),
    kind,
    modelVersion,
    blob: 'f'.repeat(64),
    modelOutput: { lines: [{ text: 'Total 12.00', confidence: 0.6, box: [[0, 0], [10, 0], [10, 5], [0, 5]] }], rotation: 0, width: 100, height: 50 },
  };
}

function answerBy(by: string, at: number, verdict: ReviewAnswer['verdict'] = 'correct'): ReviewAnswer {
  const unusable = verdict === 'unusable';
  return {
    verdict,
    lines: unusable ? [] : [{ index: 0, modelText: 'Total 12.00', text: verdict === 'correct' ? 'Total 13.00' : 'Total 12.00' }],
    added: verdict === 'correct' ? [{ box: [[0, 10], [10, 10], [10, 15], [0, 15]], text: 'VAT 2.00' }] : [],
    removed: [],
    reason: unusable ? 'blurry' : null,
    linesReviewed: unusable ? 0 : 1,
    linesChanged: verdict === 'correct' ? 1 : 0,
    by,
    at: new Date(at).toISOString(),
  };
}

function transition(rule: string, state: AlertState['state'], minute: number): AlertState {
  return { rule, state, since: `2026-12-07T00:${String(minute).padStart(2, '0')}:00.000Z`, message: `${rule} ${state}`, details: { value: minute / 10, window: [1, 2] } };
}

function profile(images: number): ReferenceProfile {
  return {
    version: 1,
    createdAt: '2026-12-07T00:00:00.000Z',
    source: `first ${images} production images`,
    images,
    features: { brightness: [0.1, 0.25, 0.5], blur: [0.3] },
    decisions: { accept: images - 2, review: 1, reject: 1 },
    descriptor: {
      names: ['a', 'b'],
      mean: [0.5, 0.25],
      scale: [1, 2],
      points: [[0.1, -0.2], [1.5, 0.75]],
      bandwidth: 0.8123456789012345,
      neighbours: 5,
      outlierThreshold: 1e-7,
      outlierQuantile: 0.99,
    },
  };
}

for (const backend of BACKENDS) {
  describe(`store contract: ${backend.name}`, () => {
    /** Runs `work` on fresh stores at a fresh place, and cleans both up. */
    async function withStores(work: (stores: SqlStores, place: Place, clock: TestClock) => Promise<void>): Promise<void> {
      const place = await backend.place();
      const clock = new TestClock();
      const stores = place.open(clock.now);
      try {
        await work(stores, place, clock);
      } finally {
        await stores.close();
        await place.drop();
      }
    }

    test('predictions: a saved record reads back equal, JSON and nulls included; an unknown id is null', () =>
      withStores(async ({ predictions }) => {
        const review = record('review');
        const rejected = { ...record('reject'), result: null };
        assert.deepEqual(await predictions.save(review), review);
        assert.deepEqual(await predictions.save(rejected), rejected);
        assert.deepEqual(await predictions.get(review.id), review);
        assert.deepEqual(await predictions.get(rejected.id), rejected);
        assert.equal(await predictions.get(newRecordId()), null);
        await predictions.ping();
      }));

    test('predictions: list pages newest first, from a record back', () =>
      withStores(async ({ predictions }) => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await predictions.save(record('accept'))).id);
        assert.deepEqual((await predictions.list({ limit: 2 })).map((r) => r.id), [ids[4], ids[3]]);
        assert.deepEqual((await predictions.list({ limit: 10, before: ids[3] })).map((r) => r.id), [ids[2], ids[1], ids[0]]);
        assert.deepEqual(await predictions.list({ limit: 10, before: ids[0] }), []);
      }));

    test('predictions: a repeated idempotency key returns the record kept first, and keeps no second one', () =>
      withStores(async ({ predictions }) => {
        const first = record('accept');
        const retry = { ...record('reject'), id: newRecordId() };
        assert.deepEqual(await predictions.save(first, { idempotencyKey: 'job-17' }), first);
        assert.deepEqual(await predictions.save(retry, { idempotencyKey: 'job-17' }), first);
        assert.deepEqual(await predictions.findByIdempotencyKey('job-17'), first);
        assert.equal(await predictions.findByIdempotencyKey('job-18'), null);
        assert.equal(await predictions.get(retry.id), null);
        assert.deepEqual((await predictions.list({ limit: 10 })).map((r) => r.id), [first.id]);
      }));

    test('predictions: saving an id again returns the record kept, never overwrites it', () =>
      withStores(async ({ predictions }) => {
        const first = record('accept');
        await predictions.save(first);
        assert.deepEqual(await predictions.save({ ...first, decision: 'reject' }), first);
        assert.deepEqual(await predictions.save({ ...first, decision: 'reject' }, { idempotencyKey: 'late-key' }), first);
        assert.equal((await predictions.get(first.id))?.decision, 'accept');
      }));

    test('predictions: writers on separate connections racing with one key all get the one record', () =>
      withStores(async ({ predictions }, place) => {
        const others = [place.open(), place.open(), place.open()];
        try {
          const attempts = [predictions, ...others.map((o) => o.predictions)].map((store) => store.save(record('accept'), { idempotencyKey: 'upload-9' }));
          const kept = await Promise.all(attempts);
          assert.equal(new Set(kept.map((r) => r.id)).size, 1, 'every writer got the same record');
          assert.equal((await predictions.list({ limit: 10 })).length, 1);
        } finally {
          await Promise.all(others.map((o) => o.close()));
        }
      }));

    test('reviews: creating a task for a prediction twice returns the one task, pending', () =>
      withStores(async ({ reviews }, _place, clock) => {
        const task = newTask();
        const created = await reviews.create(task);
        const again = await reviews.create({ ...task, kind: 'audit' });
        assert.deepEqual(again, created);
        assert.equal(created.status, 'pending');
        assert.equal(created.kind, 'review');
        assert.equal(created.createdAt, new Date(clock.ms).toISOString());
        assert.deepEqual(created.modelOutput, task.modelOutput);
        assert.deepEqual(await reviews.get(created.id), created);
        assert.equal(await reviews.get(newRecordId()), null);
        assert.deepEqual(await reviews.list({ limit: 10 }), [created]);
      }));

    test('reviews: claims take review tasks before audits, oldest first, then none', () =>
      withStores(async ({ reviews }, _place, clock) => {
        const audit = await reviews.create(newTask('audit'));
        clock.advance(1);
        const older = await reviews.create(newTask('review'));
        clock.advance(1);
        const newer = await reviews.create(newTask('review'));
        const order = [];
        for (let i = 0; i < 3; i++) order.push((await reviews.claim('ana', 60_000))?.id);
        assert.deepEqual(order, [older.id, newer.id, audit.id]);
        assert.equal(await reviews.claim('ana', 60_000), null);
        const claimed = await reviews.get(older.id);
        assert.equal(claimed?.status, 'claimed');
        assert.deepEqual(claimed?.claim, { by: 'ana', at: new Date(clock.ms).toISOString(), expiresAt: new Date(clock.ms + 60_000).toISOString() });
      }));

    test('reviews: concurrent claimers on separate connections never get the same task', () =>
      withStores(async ({ reviews }, place, clock) => {
        const tasks = 24;
        for (let i = 0; i < tasks; i++) await reviews.create(newTask());
        const others = [place.open(clock.now), place.open(clock.now), place.open(clock.now)];
        try {
          const reviewers = [reviews, ...others.map((o) => o.reviews)].map(async (store, n) => {
            const ids: string[] = [];
            for (let task = await store.claim(`reviewer-${n}`, 60_000); task !== null; task = await store.claim(`reviewer-${n}`, 60_000)) ids.push(task.id);
            return ids;
          });
          const all = (await Promise.all(reviewers)).flat();
          assert.equal(all.length, tasks, 'every task was claimed');
          assert.equal(new Set(all).size, tasks, 'no task was claimed twice');
        } finally {
          await Promise.all(others.map((o) => o.close()));
        }
      }));

    test('reviews: an expired lease sends the task back to the queue and its holder can no longer answer', () =>
      withStores(async ({ reviews }, _place, clock) => {
        const task = await reviews.create(newTask());
        assert.equal((await reviews.claim('ana', 60_000))?.id, task.id);
        assert.equal(await reviews.claim('bob', 60_000), null, 'a leased task is nobody else’s');
        clock.advance(61);
        assert.equal((await reviews.get(task.id))?.status, 'pending');
        await rejectsWith(reviews.answer(task.id, answerBy('ana', clock.ms)), 'LEASE_EXPIRED');
        assert.equal((await reviews.claim('bob', 60_000))?.id, task.id);
        await rejectsWith(reviews.answer(task.id, answerBy('ana', clock.ms)), 'TASK_NOT_CLAIMED');
        const done = await reviews.answer(task.id, answerBy('bob', clock.ms));
        assert.equal(done.status, 'done');
        assert.deepEqual(done.answer, answerBy('bob', clock.ms));
      }));

    test('reviews: answers fail with their codes: unknown task, never claimed, already answered', () =>
      withStores(async ({ reviews }, _place, clock) => {
        await rejectsWith(reviews.answer(newRecordId(), answerBy('ana', clock.ms)), 'TASK_NOT_FOUND');
        const task = await reviews.create(newTask());
        await rejectsWith(reviews.answer(task.id, answerBy('ana', clock.ms)), 'TASK_NOT_CLAIMED');
        await reviews.claim('ana', 60_000);
        await reviews.answer(task.id, answerBy('ana', clock.ms, 'confirm'));
        await rejectsWith(reviews.answer(task.id, answerBy('ana', clock.ms)), 'TASK_ALREADY_ANSWERED');
        assert.equal((await reviews.get(task.id))?.answer?.verdict, 'confirm', 'the first answer is kept');
      }));

    test('reviews: counts by status, tallies by model version and kind, answered since, list by status', () =>
      withStores(async ({ reviews }, _place, clock) => {
        assert.deepEqual(await reviews.counts(), { pending: 0, claimed: 0, done: 0 });
        assert.deepEqual(await reviews.tallies(), []);
        const verdicts: Array<[ReviewKind, string, ReviewAnswer['verdict']]> = [
          ['review', 'm@1', 'correct'],
          ['review', 'm@1', 'unusable'],
          ['audit', 'm@1', 'confirm'],
          ['review', 'm@2', 'confirm'],
        ];
        for (const [kind, version] of verdicts) await reviews.create(newTask(kind, version));
        const answeredAt: number[] = [];
        for (const [, , verdict] of verdicts) {
          clock.advance(10);
          const task = await reviews.claim('ana', 60_000);
          assert.ok(task !== null);
          answeredAt.push(clock.ms);
          await reviews.answer(task.id, answerBy('ana', clock.ms, verdict));
        }
        await reviews.create(newTask());
        await reviews.create(newTask());
        const held = await reviews.claim('bob', 60_000);
        assert.deepEqual(await reviews.counts(), { pending: 1, claimed: 1, done: 4 });
        assert.deepEqual(await reviews.tallies(), [
          { modelVersion: 'm@1', kind: 'audit', answered: 1, unusable: 0, linesReviewed: 1, linesChanged: 0, linesAdded: 0 },
          { modelVersion: 'm@1', kind: 'review', answered: 2, unusable: 1, linesReviewed: 1, linesChanged: 1, linesAdded: 1 },
          { modelVersion: 'm@2', kind: 'review', answered: 1, unusable: 0, linesReviewed: 1, linesChanged: 0, linesAdded: 0 },
        ]);
        const all = await reviews.answered({});
        assert.deepEqual(all.map((task) => task.answer?.at), answeredAt.map((ms) => new Date(ms).toISOString()));
        const since = await reviews.answered({ since: new Date(answeredAt[2]).toISOString() });
        assert.deepEqual(since.map((task) => task.id), all.slice(2).map((task) => task.id));
        assert.deepEqual((await reviews.list({ status: 'claimed', limit: 10 })).map((task) => task.id), [held?.id]);
        assert.equal((await reviews.list({ status: 'done', limit: 10 })).length, 4);
        const newest = await reviews.list({ limit: 2 });
        const older = await reviews.list({ limit: 10, before: newest[1].id });
        assert.equal(older.length, 4);
        assert.ok(older.every((task) => task.id < newest[1].id));
        clock.advance(61);
        assert.deepEqual(await reviews.counts(), { pending: 2, claimed: 0, done: 4 });
      }));

    test('monitor: transitions newest first, the latest state of each rule, and one reference profile', () =>
      withStores(async ({ monitor }, place) => {
        assert.deepEqual(await monitor.latestStates(), []);
        assert.equal(await monitor.loadReference(), null);
        const history = [transition('drift', 'firing', 1), transition('errors', 'firing', 2), transition('drift', 'resolved', 3)];
        for (const state of history) await monitor.recordTransition(state);
        assert.deepEqual(await monitor.transitions(10), [...history].reverse());
        assert.deepEqual(await monitor.transitions(1), [history[2]]);
        assert.deepEqual(await monitor.latestStates(), [history[1], history[2]]);
        await monitor.saveReference(profile(30));
        await monitor.saveReference(profile(40));
        assert.deepEqual(await monitor.loadReference(), profile(40));
        const reopened = place.open();
        try {
          assert.deepEqual(await reopened.monitor.transitions(10), [...history].reverse(), 'kept across connections');
          assert.deepEqual(await reopened.monitor.loadReference(), profile(40));
        } finally {
          await reopened.close();
        }
      }));

    test('a closed store is STORE_UNAVAILABLE, and closing twice is harmless', () =>
      withStores(async (stores) => {
        await stores.close();
        await stores.close();
        await rejectsWith(stores.predictions.get(newRecordId()), 'STORE_UNAVAILABLE');
        await rejectsWith(stores.predictions.ping(), 'STORE_UNAVAILABLE');
        await rejectsWith(stores.reviews.claim('ana', 1000), 'STORE_UNAVAILABLE');
        await rejectsWith(stores.monitor.transitions(1), 'STORE_UNAVAILABLE');
      }));
  });
}
