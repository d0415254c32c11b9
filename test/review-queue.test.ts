import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { IngestedImage } from '../src/image/types.js';
import { resolveAnswer } from '../src/review/answer.js';
import { createReviewObserver } from '../src/review/queue.js';
import { openSqliteStores } from '../src/store/sqlite/index.js';
import { reviewStats, wilsonInterval } from '../src/review/stats.js';
import type { ReviewTask } from '../src/core/records/review.js';
import { seededRandom } from './fixtures/documents.js';
import { closeFixture, MODEL_VERSION, predictionRecord, reviewFixture, seedTask, type ReviewFixture } from './helpers/review.js';

const fixtures: ReviewFixture[] = [];
function fresh(): ReviewFixture {
  const fixture = reviewFixture();
  fixtures.push(fixture);
  return fixture;
}
after(async () => {
  for (const fixture of fixtures) {
    await closeFixture(fixture);
    rmSync(fixture.dir, { recursive: true, force: true });
  }
});

const TRUTH = ['Invoice 20417 paid', 'Total amount: 1250.40'];
const READ = [
  { text: 'Invoice 20417 paid', confidence: 0.99 },
  { text: 'Totl amount: 1250.40', confidence: 0.71 },
];

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: { code?: string }) => {
    assert.equal(error.code, code);
    return true;
  });
}

/** The observer sees the decoded frame only for its size. */
const image = { frame: { width: 900, height: 200, channels: 3, data: new Uint8Array(0) } } as unknown as IngestedImage;
const seen = { image, frame: image.frame, gray: image.luma };

test('a review decision makes a task, a rejection none, and about auditRate of accepted predictions are audited with their image kept', async () => {
  const fixture = fresh();
  const observer = createReviewObserver({ reviews: fixture.reviews, blobs: fixture.blobs, auditRate: 0.05, random: seededRandom(7) });
  const bytes = new Uint8Array([1, 2, 3]);

  const review = predictionRecord('review', READ);
  await observer.recorded({ record: { ...review, blob: 'f'.repeat(64) }, bytes, ...seen });
  const rejected = { ...predictionRecord('reject', []), result: null };
  await observer.recorded({ record: rejected, bytes, ...seen });
  let counts = await fixture.reviews.counts();
  assert.deepEqual(counts, { pending: 1, claimed: 0, done: 0 });
  const [task] = await fixture.reviews.list({ limit: 10 });
  assert.equal(task.kind, 'review');
  assert.equal(task.predictionId, review.id);
  assert.equal(task.blob, 'f'.repeat(64), 'a review decision reuses the image the service kept');
  assert.equal(task.modelVersion, MODEL_VERSION);
  assert.deepEqual(task.modelOutput.lines.map((line) => line.text), READ.map((line) => line.text));

  const accepted = 4000;
  for (let i = 0; i < accepted; i++) await observer.recorded({ record: predictionRecord('accept', READ), bytes, ...seen });
  counts = await fixture.reviews.counts();
  const audits = counts.pending - 1;
  // Binomial(4000, 0.05): mean 200, standard deviation 13.8; four deviations either side.
  assert.ok(audits > 145 && audits < 255, `${audits} audits of ${accepted} at rate 0.05`);
  const audit = (await fixture.reviews.list({ limit: 1 }))[0];
  assert.equal(audit.kind, 'audit');
  assert.deepEqual(await fixture.blobs.get(audit.blob), bytes, 'the audited image is kept in the blob store');
});

test('a prediction gets one task however often it is told', async () => {
  const fixture = fresh();
  const record = predictionRecord('review', READ);
  const task = { predictionId: record.id, kind: 'review' as const, modelVersion: MODEL_VERSION, blob: 'f'.repeat(64), modelOutput: { lines: [], rotation: 0 as const, width: 1, height: 1 } };
  const first = await fixture.reviews.create(task);
  const second = await fixture.reviews.create(task);
  assert.equal(second.id, first.id);
  assert.equal((await fixture.reviews.counts()).pending, 1);
});

test('four reviewers claiming at once from separate processes never get the same task', async () => {
  const fixture = fresh();
  const tasks = 600;
  for (let i = 0; i < tasks; i++) {
    const record = predictionRecord('review', READ);
    await fixture.reviews.create({ predictionId: record.id, kind: 'review', modelVersion: MODEL_VERSION, blob: 'f'.repeat(64), modelOutput: { lines: [], rotation: 0, width: 1, height: 1 } });
  }
  const reviewers = ['ana', 'ben', 'chloe', 'dev'];
  const start = Date.now() + 4000;
  const claims = await Promise.all(
    reviewers.map(
      (reviewer) =>
        new Promise<string[]>((resolve, reject) => {
          const worker = fileURLToPath(new URL('./helpers/claim-worker.ts', import.meta.url));
          execFile(process.execPath, ['--import', 'tsx', worker, fixture.file, reviewer, String(start)], (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))));
        }),
    ),
  );
  const all = claims.flat();
  assert.equal(new Set(all).size, all.length, 'no task was claimed twice');
  assert.equal(all.length, tasks, 'every task was claimed once');
  assert.ok(claims.filter((ids) => ids.length > 0).length >= 2, `the claims interleaved: ${claims.map((ids) => ids.length).join(', ')}`);
  assert.equal(await fixture.reviews.claim('eve', 60_000), null);
});

test('an expired lease returns the task to the queue, and the late answer is refused with LEASE_EXPIRED', async () => {
  const fixture = fresh();
  const seeded = await seedTask(fixture, { truth: TRUTH, read: READ });
  const claimed = await fixture.reviews.claim('ana', 600_000);
  assert.equal(claimed?.id, seeded.id);
  assert.equal(claimed?.status, 'claimed');
  assert.equal(await fixture.reviews.claim('ben', 600_000), null, 'a leased task is not handed out again');
  assert.deepEqual(await fixture.reviews.counts(), { pending: 0, claimed: 1, done: 0 });

  fixture.clock.advance(601);
  assert.deepEqual(await fixture.reviews.counts(), { pending: 1, claimed: 0, done: 0 });
  assert.equal((await fixture.reviews.get(seeded.id))?.status, 'pending');
  const late = resolveAnswer(seeded, { verdict: 'confirm' }, 'ana', new Date(fixture.clock.ms));
  await rejectsWith(fixture.reviews.answer(seeded.id, late), 'LEASE_EXPIRED');

  const reclaimed = await fixture.reviews.claim('ben', 600_000);
  assert.equal(reclaimed?.id, seeded.id);
  await rejectsWith(fixture.reviews.answer(seeded.id, late), 'TASK_NOT_CLAIMED');
  const done = await fixture.reviews.answer(seeded.id, resolveAnswer(seeded, { verdict: 'confirm' }, 'ben', new Date(fixture.clock.ms)));
  assert.equal(done.status, 'done');
  assert.equal(done.answer?.by, 'ben');
  await rejectsWith(fixture.reviews.answer(seeded.id, resolveAnswer(seeded, { verdict: 'confirm' }, 'ben', new Date())), 'TASK_ALREADY_ANSWERED');
});

test('an unclaimed task cannot be answered', async () => {
  const fixture = fresh();
  const seeded = await seedTask(fixture, { truth: TRUTH, read: READ });
  await rejectsWith(fixture.reviews.answer(seeded.id, resolveAnswer(seeded, { verdict: 'confirm' }, 'ana', new Date())), 'TASK_NOT_CLAIMED');
  await rejectsWith(fixture.reviews.answer('0190a000-0000-7000-8000-000000000000', resolveAnswer(seeded, { verdict: 'confirm' }, 'ana', new Date())), 'TASK_NOT_FOUND');
});

test('claims hand out review decisions before audits, oldest first', async () => {
  const fixture = fresh();
  const audit = await seedTask(fixture, { truth: TRUTH, read: READ, kind: 'audit' });
  const first = await seedTask(fixture, { truth: TRUTH, read: READ });
  const second = await seedTask(fixture, { truth: TRUTH, read: READ });
  const order = [];
  for (let task = await fixture.reviews.claim('ana', 1000); task !== null; task = await fixture.reviews.claim('ana', 1000)) order.push(task.id);
  assert.deepEqual(order, [first.id, second.id, audit.id]);
});

test('a correction is kept with the model text and the person text, and moves the override rate', async () => {
  const fixture = fresh();
  const seeded = await seedTask(fixture, { truth: TRUTH, read: READ });
  const second = await seedTask(fixture, { truth: TRUTH, read: READ });
  const confirmTask = (await fixture.reviews.claim('ana', 60_000)) as ReviewTask;
  await fixture.reviews.answer(confirmTask.id, resolveAnswer(confirmTask, { verdict: 'confirm' }, 'ana', new Date(fixture.clock.ms)));
  let stats = reviewStats(await fixture.reviews.counts(), await fixture.reviews.tallies(), []);
  assert.equal(stats.models[0].override.rate, 0);

  const task = (await fixture.reviews.claim('ana', 60_000)) as ReviewTask;
  const answer = resolveAnswer(task, { verdict: 'correct', lines: [{ index: 1, text: 'Total amount: 1250.40' }] }, 'ana', new Date(fixture.clock.ms));
  const done = await fixture.reviews.answer(task.id, answer);
  assert.deepEqual(done.answer?.lines[1], { index: 1, modelText: 'Totl amount: 1250.40', text: 'Total amount: 1250.40' });
  assert.deepEqual(done.answer?.lines[0], { index: 0, modelText: 'Invoice 20417 paid', text: 'Invoice 20417 paid' });
  assert.equal(done.answer?.by, 'ana');
  assert.equal(done.answer?.at, new Date(fixture.clock.ms).toISOString());
  assert.equal(done.answer?.linesChanged, 1);
  assert.equal(done.modelOutput.lines[1].text, 'Totl amount: 1250.40', 'the model output is kept as it was');
  assert.deepEqual([confirmTask.id, task.id], [seeded.id, second.id], 'claims come oldest first');

  stats = reviewStats(await fixture.reviews.counts(), await fixture.reviews.tallies(), []);
  const [model] = stats.models;
  assert.equal(model.modelVersion, MODEL_VERSION);
  assert.deepEqual(model.override, { linesReviewed: 4, linesChanged: 1, rate: 0.25 });
  assert.deepEqual(stats.tasks, { pending: 0, claimed: 0, done: 2 });
});

test('answers that do not fit their verdict or the task are refused', () => {
  const task = { modelOutput: { lines: READ.map((line) => ({ ...line, box: [[0, 0], [1, 0], [1, 1], [0, 1]] })) } } as ReviewTask;
  const refused = (body: Parameters<typeof resolveAnswer>[1], pattern: RegExp) =>
    assert.throws(() => resolveAnswer(task, body, 'ana', new Date()), (error: { code?: string; message: string }) => error.code === 'INVALID_REQUEST' && pattern.test(error.message));
  refused({ verdict: 'unusable' }, /needs a "reason"/);
  refused({ verdict: 'confirm', lines: [{ index: 0, text: 'x' }] }, /verdict "correct"/);
  refused({ verdict: 'correct', lines: [{ index: 2, text: 'x' }] }, /no line 2/);
  refused({ verdict: 'correct', lines: [{ index: 0, text: 'x' }], removed: [0] }, /both corrected and removed/);
  refused({ verdict: 'correct', lines: [{ index: 0, text: 'Invoice 20417 paid' }] }, /changes nothing/);
  const unusable = resolveAnswer(task, { verdict: 'unusable', reason: 'glare' }, 'ana', new Date());
  assert.equal(unusable.reason, 'glare');
  assert.equal(unusable.linesReviewed, 0);
  const removed = resolveAnswer(task, { verdict: 'correct', removed: [1], added: [{ box: [[0, 5], [9, 5], [9, 9], [0, 9]], text: 'Paid' }] }, 'ana', new Date());
  assert.equal(removed.linesChanged, 1);
});

test('the Wilson interval matches published values and stays within 0 and 1', () => {
  // Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 -> 0.2553 to 0.3662; 0/10 -> 0 to 0.2775.
  const a = wilsonInterval(81, 263);
  assert.ok(a !== null && Math.abs(a.low - 0.2553) < 5e-4 && Math.abs(a.high - 0.3662) < 5e-4, JSON.stringify(a));
  const b = wilsonInterval(0, 10);
  assert.ok(b !== null && b.low === 0 && Math.abs(b.high - 0.2775) < 5e-4, JSON.stringify(b));
  const c = wilsonInterval(10, 10);
  assert.ok(c !== null && c.high === 1 && Math.abs(c.low - 0.7225) < 5e-4, JSON.stringify(c));
  assert.equal(wilsonInterval(0, 0), null);
});

test('production accuracy comes from audits only, with its interval, beside the lab accuracy of the manifest', async () => {
  const fixture = fresh();
  for (let i = 0; i < 3; i++) await seedTask(fixture, { truth: TRUTH, read: READ, kind: 'audit' });
  await seedTask(fixture, { truth: TRUTH, read: READ, kind: 'review' });
  for (let task = await fixture.reviews.claim('ana', 60_000); task !== null; task = await fixture.reviews.claim('ana', 60_000)) {
    const body = task.kind === 'review' || task === null ? { verdict: 'correct' as const, removed: [0, 1] } : { verdict: 'correct' as const, lines: [{ index: 1, text: 'Total amount: 1250.40' }] };
    await fixture.reviews.answer(task.id, resolveAnswer(task, body, 'ana', new Date(fixture.clock.ms)));
  }
  const lab = [{ id: 'ch_PP-OCRv4_rec', version: '1.4.2', metrics: { lineAccuracy: 0.97 } }];
  const [model] = reviewStats(await fixture.reviews.counts(), await fixture.reviews.tallies(), lab).models;
  assert.equal(model.production.auditedTasks, 3);
  assert.equal(model.production.lines, 6);
  assert.equal(model.production.correctLines, 3);
  assert.equal(model.production.lineAccuracy, 0.5);
  assert.deepEqual(model.production.interval, wilsonInterval(3, 6));
  assert.deepEqual(model.override, { linesReviewed: 8, linesChanged: 5, rate: 5 / 8 });
  assert.deepEqual(model.lab, { lineAccuracy: 0.97, model: 'ch_PP-OCRv4_rec@1.4.2' });
});

test('tasks page newest first by status', async () => {
  const fixture = fresh();
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await seedTask(fixture, { truth: TRUTH, read: READ })).id);
  await fixture.reviews.claim('ana', 60_000);
  const pending = await fixture.reviews.list({ status: 'pending', limit: 2 });
  assert.deepEqual(pending.map((task) => task.id), [ids[4], ids[3]]);
  const older = await fixture.reviews.list({ status: 'pending', limit: 10, before: ids[3] });
  assert.deepEqual(older.map((task) => task.id), [ids[2], ids[1]]);
  assert.deepEqual((await fixture.reviews.list({ status: 'claimed', limit: 10 })).map((task) => task.id), [ids[0]]);
  assert.deepEqual(await fixture.reviews.list({ status: 'done', limit: 10 }), []);
  const reopened = openSqliteStores(fixture.file);
  assert.equal((await reopened.reviews.list({ limit: 10 })).length, 5, 'a second connection sees the same tasks');
  await reopened.close();
});
