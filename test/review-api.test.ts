import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { loadConfig } from '../src/config/load.js';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { noModelsPipeline } from './helpers/pipelines.js';
import { closeFixture, reviewFixture, seedTask, type ReviewFixture } from './helpers/review.js';

const TRUTH = ['Invoice 20417 paid', 'Total amount: 1250.40'];
const READ = [
  { text: 'Invoice 20417 paid', confidence: 0.99 },
  { text: 'Totl amount: 1250.40', confidence: 0.71 },
];

let fixture: ReviewFixture;
let app: FastifyInstance;
/** The review routes need no models: tasks are seeded as the observer would make them. */
let visionops: Visionops;

before(async () => {
  fixture = reviewFixture();
  const config = loadConfig({ sets: ['server.logLevel="silent"', 'review.leaseSeconds=60'] });
  visionops = await createVisionops(config, {
    overrides: { stores: fixture.stores, pipelines: [noModelsPipeline], lab: [{ id: 'ch_PP-OCRv4_rec', version: '1.4.2', metrics: { lineAccuracy: 0.98 } }], reviewNow: fixture.clock.now },
  });
  app = await visionops.server();
});
after(async () => {
  await visionops.close();
  await closeFixture(fixture);
  rmSync(fixture.dir, { recursive: true, force: true });
});

function expectError(response: { statusCode: number; json(): unknown }, status: number, code: string): void {
  assert.equal(response.statusCode, status, JSON.stringify(response.json()));
  const body = response.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 20, 'the message says what to do');
}

const claim = () => app.inject({ method: 'POST', url: '/v1/reviews/claim' });
const answer = (id: string, body: unknown) => app.inject({ method: 'POST', url: `/v1/reviews/${id}/answer`, payload: body as object });

test('claim answers 204 when no task waits', async () => {
  const response = await claim();
  assert.equal(response.statusCode, 204);
  assert.equal(response.body, '');
});

test('claim, look, correct: the answer is kept with both texts and the stats move', async () => {
  const seeded = await seedTask(fixture, { truth: TRUTH, read: READ });
  const claimed = await claim();
  assert.equal(claimed.statusCode, 200, claimed.body);
  const task = claimed.json();
  assert.equal(task.id, seeded.id);
  assert.equal(task.status, 'claimed');
  assert.equal(task.claim.by, 'local');
  assert.equal(task.prediction.decision, 'review');
  assert.equal(task.prediction.quality.verdict, 'pass');
  assert.deepEqual(task.modelOutput.lines.map((line: { text: string }) => line.text), READ.map((line) => line.text));

  const image = await app.inject({ method: 'GET', url: task.image.url });
  assert.equal(image.statusCode, 200);
  assert.equal(image.headers['content-type'], 'image/jpeg');
  const meta = await sharp(image.rawPayload).metadata();
  assert.deepEqual([meta.width, meta.height], [task.image.width, task.image.height], 'the image is the page the boxes are in');

  const listed = await app.inject({ method: 'GET', url: '/v1/reviews?status=claimed' });
  assert.deepEqual(listed.json().tasks.map((t: { id: string }) => t.id), [seeded.id]);

  const answered = await answer(task.id, { verdict: 'correct', lines: [{ index: 1, text: 'Total amount: 1250.40' }] });
  assert.equal(answered.statusCode, 200, answered.body);
  const stored = (await app.inject({ method: 'GET', url: `/v1/reviews/${task.id}` })).json();
  assert.equal(stored.status, 'done');
  assert.deepEqual(stored.answer.lines[1], { index: 1, modelText: 'Totl amount: 1250.40', text: 'Total amount: 1250.40' });
  assert.equal(stored.answer.by, 'local');

  const stats = (await app.inject({ method: 'GET', url: '/v1/reviews/stats' })).json();
  assert.equal(stats.models[0].override.rate, 0.5);
  assert.equal(stats.models[0].lab.lineAccuracy, 0.98);
  assert.equal(stats.tasks.done, 1);
});

test('answers to tasks not held, expired or unknown are refused with their codes', async () => {
  const seeded = await seedTask(fixture, { truth: TRUTH, read: READ });
  expectError(await answer(seeded.id, { verdict: 'confirm' }), 409, 'TASK_NOT_CLAIMED');
  assert.equal((await claim()).json().id, seeded.id);
  fixture.clock.advance(61);
  expectError(await answer(seeded.id, { verdict: 'confirm' }), 410, 'LEASE_EXPIRED');
  assert.equal((await claim()).json().id, seeded.id, 'the expired task was handed out again');
  const done = await answer(seeded.id, { verdict: 'unusable', reason: 'glare' });
  assert.equal(done.json().answer.reason, 'glare');
  expectError(await answer(seeded.id, { verdict: 'confirm' }), 409, 'TASK_ALREADY_ANSWERED');
  expectError(await app.inject({ method: 'GET', url: '/v1/reviews/0190a000-0000-7000-8000-000000000000' }), 404, 'TASK_NOT_FOUND');
  expectError(await answer('0190a000-0000-7000-8000-000000000000', { verdict: 'confirm' }), 404, 'TASK_NOT_FOUND');
  expectError(await app.inject({ method: 'GET', url: '/v1/reviews/nope' }), 400, 'INVALID_REQUEST');
  expectError(await app.inject({ method: 'GET', url: '/v1/reviews?status=lost' }), 400, 'INVALID_REQUEST');
});

test('a malformed answer is INVALID_REQUEST and leaves the claim in place', async () => {
  const seeded = await seedTask(fixture, { truth: TRUTH, read: READ });
  assert.equal((await claim()).json().id, seeded.id);
  expectError(await answer(seeded.id, { verdict: 'maybe' }), 400, 'INVALID_REQUEST');
  expectError(await answer(seeded.id, { verdict: 'correct', lines: [{ index: 9, text: 'x' }] }), 400, 'INVALID_REQUEST');
  assert.equal((await answer(seeded.id, { verdict: 'confirm' })).statusCode, 200);
});

test('the list pages with next', async () => {
  const page = (await app.inject({ method: 'GET', url: '/v1/reviews?limit=2' })).json();
  assert.equal(page.tasks.length, 2);
  assert.equal(page.next, page.tasks[1].id);
  const rest = (await app.inject({ method: 'GET', url: `/v1/reviews?limit=50&before=${page.next}` })).json();
  assert.ok(rest.tasks.every((task: { id: string }) => task.id < page.next), 'older tasks only');
  assert.equal(rest.next, null);
});
