import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config/load.js';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { BLURRY } from '../src/core/quality/blur.js';
import { blurred } from './fixtures/documents.js';
import { workbench } from './fixtures/scenes.js';
import { closeFixture, reviewFixture, type ReviewFixture } from './helpers/review.js';
import { fixedClassifier, fixedDetector } from './helpers/task-pipelines.js';

let fixture: ReviewFixture;
let app: FastifyInstance;
let visionops: Visionops;

const LABELS = { labels: [{ label: 'scratch', score: 0.6 }, { label: 'ok', score: 0.4 }] };
const BOXES = { boxes: [{ label: 'bolt', score: 0.7, box: [10, 20, 110, 140] as [number, number, number, number] }] };

before(async () => {
  fixture = reviewFixture('visionops-scene-pipeline-');
  // The configuration names the pipelines (their settings are unused by these model-less ones).
  const config = loadConfig({ sets: ['server.logLevel="silent"', 'review.auditRate=0', 'pipelines=[{"name":"defects"},{"name":"parts"}]'] });
  visionops = await createVisionops(config, { overrides: { stores: fixture.stores, pipelines: [fixedClassifier('defects', LABELS), fixedDetector('parts', BOXES)], lab: [] } });
  app = await visionops.server();
});
after(async () => {
  await visionops.close();
  await closeFixture(fixture);
  rmSync(fixture.dir, { recursive: true, force: true });
});

const predict = (pipeline: string, image: Buffer) => app.inject({ method: 'POST', url: `/v1/predict?pipeline=${pipeline}`, headers: { 'content-type': 'image/jpeg' }, payload: image });

test('a pipeline with a scene gate judges sharpness, exposure and resolution against its input, and its unsure answers become review tasks', async () => {
  const { image } = await workbench(41, 3, 640, 480);
  const response = await predict('defects', image);
  assert.equal(response.statusCode, 200, response.body);
  const record = response.json();
  assert.deepEqual(record.quality.checks.map((c: { name: string }) => c.name), ['resolution', 'information', 'sharpness', 'exposure']);
  assert.equal(record.quality.verdict, 'pass');
  assert.equal(record.quality.checks[0].details.modelWidth, 224, 'resolution is judged against the model input');
  assert.equal(record.decision, 'review');

  const detected = await predict('parts', image);
  assert.equal(detected.json().decision, 'review');
  const tasks = (await app.inject({ method: 'GET', url: '/v1/reviews' })).json().tasks;
  const byPrediction = new Map(tasks.map((task: { predictionId: string }) => [task.predictionId, task]));
  const labelTask: any = byPrediction.get(record.id);
  assert.deepEqual(labelTask.modelOutput.labels, LABELS.labels);
  assert.deepEqual([labelTask.modelOutput.width, labelTask.modelOutput.height], [640, 480]);
  const boxTask: any = byPrediction.get(detected.json().id);
  assert.deepEqual(boxTask.modelOutput.boxes, BOXES.boxes);
});

test('a blurred scene is refused by the scene gate with the blur guidance, before any model and without a task', async () => {
  const before = (await fixture.reviews.counts()).pending;
  const response = await predict('defects', await blurred((await workbench(42, 3, 640, 480)).image, 9));
  const body = response.json();
  assert.equal(body.decision, 'reject', response.body);
  assert.ok(body.quality.guidance.includes(BLURRY));
  assert.equal(body.result, null);
  assert.equal((await fixture.reviews.counts()).pending, before);
});

test('answers to these tasks move the monitor\'s review and override counters per model version', async () => {
  const claimAll = async () => {
    const claimed = [];
    for (;;) {
      const response = await app.inject({ method: 'POST', url: '/v1/reviews/claim' });
      if (response.statusCode === 204) return claimed;
      claimed.push(response.json());
    }
  };
  for (const task of await claimAll()) {
    const body = task.modelOutput.labels !== undefined ? { label: 'ok' } : { verdict: 'confirm' };
    const answered = await app.inject({ method: 'POST', url: `/v1/reviews/${task.id}/answer`, payload: body });
    assert.equal(answered.statusCode, 200, answered.body);
  }
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /visionops_reviews_total\{model_version="defects@2\.1\.0"\} 1\n/);
  assert.match(metrics, /visionops_overrides_total\{model_version="defects@2\.1\.0"\} 1\n/, 'a changed label is an override');
  assert.match(metrics, /visionops_reviews_total\{model_version="parts-yolo@1\.0\.0"\} 1\n/);
  assert.doesNotMatch(metrics, /visionops_overrides_total\{model_version="parts-yolo@1\.0\.0"\} [1-9]/, 'confirmed boxes are not');
});
