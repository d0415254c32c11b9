import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config/load.js';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { compareBoxes } from '../src/review/answer-boxes.js';
import { noModelsPipeline } from './helpers/pipelines.js';
import { closeFixture, reviewFixture, type ReviewFixture } from './helpers/review.js';
import { seedModelTask } from './helpers/task-review.js';
import { workbench } from './fixtures/scenes.js';

let fixture: ReviewFixture;
let app: FastifyInstance;
let visionops: Visionops;

before(async () => {
  fixture = reviewFixture('visionops-review-modes-');
  const config = loadConfig({ sets: ['server.logLevel="silent"', 'review.leaseSeconds=60'] });
  visionops = await createVisionops(config, { overrides: { stores: fixture.stores, pipelines: [noModelsPipeline], lab: [], reviewNow: fixture.clock.now } });
  app = await visionops.server();
});
after(async () => {
  await visionops.close();
  await closeFixture(fixture);
  rmSync(fixture.dir, { recursive: true, force: true });
});

const CANDIDATES = [
  { label: 'scratch', score: 0.48 },
  { label: 'dent', score: 0.41 },
  { label: 'ok', score: 0.11 },
];

const claim = async () => {
  const response = await app.inject({ method: 'POST', url: '/v1/reviews/claim' });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
};
const answer = (id: string, body: unknown) => app.inject({ method: 'POST', url: `/v1/reviews/${id}/answer`, payload: body as object });
const stats = async (modelVersion: string) => {
  const response = await app.inject({ method: 'GET', url: '/v1/reviews/stats' });
  return response.json().models.find((model: { modelVersion: string }) => model.modelVersion === modelVersion);
};

async function refused(id: string, body: unknown, problem: string): Promise<void> {
  const response = await answer(id, body);
  assert.equal(response.statusCode, 400, `${JSON.stringify(body)} -> ${response.body}`);
  const error = response.json().error;
  assert.equal(error.code, 'INVALID_REQUEST');
  assert.equal(error.problem, problem, error.message);
  assert.ok(error.message.length > 20, 'the message says what to do');
}

test('a classification task holds the candidates and the image size; a label answer is validated, kept, and counts as an override', async () => {
  const { image } = await workbench(1, 2, 320, 240);
  const seeded = await seedModelTask(fixture, image, { labels: CANDIDATES });
  assert.deepEqual(seeded.modelOutput.labels, CANDIDATES);
  assert.equal(seeded.modelOutput.boxes, undefined);
  assert.deepEqual([seeded.modelOutput.width, seeded.modelOutput.height], [320, 240]);

  const task = await claim();
  assert.equal(task.id, seeded.id);
  assert.deepEqual(task.image, { url: `/v1/reviews/${seeded.id}/image`, width: 320, height: 240 });

  await refused(task.id, {}, 'LABEL_MISSING');
  await refused(task.id, { label: '   ' }, 'BAD_SHAPE');
  await refused(task.id, { label: 'dent\u0007' }, 'BAD_SHAPE');
  await refused(task.id, { verdict: 'correct', lines: [{ index: 0, text: 'x' }] }, 'BAD_SHAPE');
  await refused(task.id, { boxes: [] }, 'BAD_SHAPE');
  await refused(task.id, { verdict: 'confirm', label: 'dent' }, 'CONFIRM_CHANGES');
  await refused(task.id, { verdict: 'correct', label: 'scratch' }, 'CORRECTION_CHANGES_NOTHING');
  await refused(task.id, { verdict: 'unusable' }, 'REASON_MISSING');
  await refused(task.id, { verdict: 'unusable', reason: 'glare', label: 'dent' }, 'UNUSABLE_WITH_LABEL');
  await refused(task.id, { label: 'dent', reason: 'glare' }, 'REASON_NOT_UNUSABLE');

  const kept = await answer(task.id, { label: ' dent ' });
  assert.equal(kept.statusCode, 200, kept.body);
  const stored = kept.json().answer;
  assert.equal(stored.verdict, 'correct');
  assert.equal(stored.label, 'dent', 'the label is kept trimmed');
  assert.equal(stored.linesReviewed, 1);
  assert.equal(stored.linesChanged, 1);
  const figures = await stats(seeded.modelVersion);
  assert.deepEqual(figures.override, { linesReviewed: 1, linesChanged: 1, rate: 1 });
});

test('a new label is accepted; confirming an audited classification keeps the top label and makes the production accuracy', async () => {
  const { image } = await workbench(2, 2, 320, 240);
  const audited = await seedModelTask(fixture, image, { labels: [{ label: 'ok', score: 0.97 }] }, 'audit');
  assert.equal(audited.kind, 'audit');
  const newOne = await seedModelTask(fixture, image, { labels: [{ label: 'ok', score: 0.6 }] });

  const claimed = [await claim(), await claim()];
  const first = claimed.find((task) => task.id === audited.id);
  const second = claimed.find((task) => task.id === newOne.id);
  const confirmed = await answer(first.id, { verdict: 'confirm' });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  assert.equal(confirmed.json().answer.label, 'ok');
  assert.equal(confirmed.json().answer.verdict, 'confirm');

  const relabelled = await answer(second.id, { label: 'crack' });
  assert.equal(relabelled.statusCode, 200, relabelled.body);
  assert.equal(relabelled.json().answer.label, 'crack', 'a label the model does not know is kept');

  const figures = await stats(audited.modelVersion);
  assert.equal(figures.production.auditedTasks, 1);
  assert.equal(figures.production.lineAccuracy, 1, 'the audited label was right');
  assert.deepEqual(figures.override, { linesReviewed: 3, linesChanged: 2, rate: 2 / 3 });
});

test('a detection answer keeps every box; removals, relabels and moves are overrides, drawn boxes are added', async () => {
  const { image, objects } = await workbench(3, 4, 640, 480);
  const modelBoxes = objects.slice(0, 3).map((object, i) => ({ ...object, score: 0.5 + i * 0.1 }));
  const seeded = await seedModelTask(fixture, image, { boxes: modelBoxes });
  assert.deepEqual(seeded.modelOutput.boxes, modelBoxes);
  const task = await claim();
  assert.equal(task.id, seeded.id);

  await refused(task.id, {}, 'BOXES_MISSING');
  await refused(task.id, { label: 'bolt' }, 'BAD_SHAPE');
  await refused(task.id, { boxes: [{ label: 'bolt', box: [10, 10, 5, 20] }] }, 'BOX_EMPTY');
  await refused(task.id, { boxes: [{ label: 'bolt', box: [600, 10, 700, 20] }] }, 'BOX_OUTSIDE_IMAGE');
  await refused(task.id, { boxes: [{ label: 'bolt', box: [1, 2, 3] }] }, 'BAD_SHAPE');
  await refused(task.id, { boxes: [{ label: '', box: [1, 2, 3, 4] }] }, 'BAD_SHAPE');
  await refused(task.id, { verdict: 'correct', boxes: modelBoxes.map(({ label, box }) => ({ label, box })) }, 'CORRECTION_CHANGES_NOTHING');
  await refused(task.id, { verdict: 'confirm', boxes: [] }, 'CONFIRM_CHANGES');

  const [a, b] = modelBoxes;
  const nudged: [number, number, number, number] = [a.box[0] + 2, a.box[1] + 2, a.box[2] + 2, a.box[3] - 1];
  const boxes = [
    { label: a.label, box: nudged },
    { label: 'washer', box: b.box },
    { label: objects[3].label, box: objects[3].box },
  ];
  const kept = await answer(task.id, { boxes });
  assert.equal(kept.statusCode, 200, kept.body);
  const stored = kept.json().answer;
  assert.equal(stored.verdict, 'correct');
  assert.deepEqual(stored.boxes, boxes);
  assert.equal(stored.linesReviewed, 3);
  assert.equal(stored.linesChanged, 2, 'one relabelled, one removed; the nudged one is kept');
  assert.equal(stored.boxesAdded, 1);
  const tally = (await fixture.reviews.tallies()).find((row) => row.modelVersion === seeded.modelVersion);
  assert.equal(tally?.linesAdded, 1, 'the drawn box is counted as the model\'s miss');
});

test('boxes moved beyond IoU 0.5 count as a removal and an addition; each box matches at most one', () => {
  const model = [{ label: 'bolt', score: 0.9, box: [0, 0, 100, 100] as [number, number, number, number] }];
  assert.deepEqual(compareBoxes(model, [{ label: 'bolt', box: [10, 10, 110, 110] }]), { changed: 0, added: 0 }, 'IoU 0.68 is the same box');
  assert.deepEqual(compareBoxes(model, [{ label: 'bolt', box: [40, 40, 140, 140] }]), { changed: 1, added: 1 }, 'IoU 0.22 is a move');
  assert.deepEqual(compareBoxes(model, [{ label: 'bolt', box: [0, 0, 100, 100] }, { label: 'bolt', box: [5, 5, 100, 100] }]), { changed: 0, added: 1 }, 'a duplicate is an addition');
  assert.deepEqual(compareBoxes(model, []), { changed: 1, added: 0 });
});

test('an unusable detection or classification is kept with its reason and reviews no item', async () => {
  const { image, objects } = await workbench(5, 2, 320, 240);
  const boxTask = await seedModelTask(fixture, image, { boxes: objects.map((object) => ({ ...object, score: 0.5 })) });
  const labelTask = await seedModelTask(fixture, image, { labels: CANDIDATES });
  const claimed = [await claim(), await claim()];
  for (const task of claimed) {
    const kept = await answer(task.id, { verdict: 'unusable', reason: 'glare' });
    assert.equal(kept.statusCode, 200, kept.body);
    const stored = kept.json().answer;
    assert.equal(stored.verdict, 'unusable');
    assert.equal(stored.reason, 'glare');
    assert.equal(stored.linesReviewed, 0);
    assert.equal(stored.label, undefined);
    assert.equal(stored.boxes, undefined);
  }
  assert.deepEqual(claimed.map((task) => task.id).sort(), [boxTask.id, labelTask.id].sort());
});
