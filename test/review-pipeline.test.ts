import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../src/config/load.js';
import { loadDocumentPipeline, type DocumentPipeline } from '../src/pipeline/document.js';
import { createVisionops } from '../src/app/visionops.js';
import { renderDocument, rotated } from './fixtures/documents.js';
import { closeFixture, reviewFixture, type ReviewFixture } from './helpers/review.js';

let fixture: ReviewFixture;
let pipeline: DocumentPipeline;
before(async () => {
  fixture = reviewFixture('visionops-review-pipeline-');
  const config = loadConfig({ sets: ['server.logLevel="silent"'] });
  pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
});
after(async () => {
  await pipeline.close();
  await closeFixture(fixture);
  rmSync(fixture.dir, { recursive: true, force: true });
});

/** A server as `visionops serve` wires it, with the given review threshold and audit rate. */
async function server(reviewThreshold: number, auditRate: number) {
  const config = loadConfig({ sets: ['server.logLevel="silent"', `pipeline.decision.reviewThreshold=${reviewThreshold}`, `review.auditRate=${auditRate}`] });
  const system = await createVisionops(config, { overrides: { stores: fixture.stores, pipelines: [pipeline] } });
  const app = await system.server();
  return { inject: app.inject.bind(app), close: () => system.close() };
}

test('through the real pipeline: a page decided review becomes a task whose image frame matches its boxes, even turned', async () => {
  const app = await server(1, 0);
  const page = await rotated(await renderDocument({ lines: ['Invoice 20417 paid', 'Total amount: 1250.40'], width: 900 }), 90);
  const predicted = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: page });
  assert.equal(predicted.json().decision, 'review');
  const task = (await app.inject({ method: 'POST', url: '/v1/reviews/claim' })).json();
  assert.equal(task.predictionId, predicted.json().id);
  assert.equal(task.kind, 'review');
  assert.equal(task.modelOutput.rotation, 270, 'the pipeline turned the page upright');
  assert.deepEqual(task.modelOutput.lines, predicted.json().result.lines);
  assert.match(task.modelVersion, /^ch_PP-OCRv4_det@[\d.]+ \+ ch_ppocr_mobile_v2\.0_cls@[\d.]+ \+ ch_PP-OCRv4_rec@[\d.]+$/);
  const image = await app.inject({ method: 'GET', url: task.image.url });
  const meta = await sharp(image.rawPayload).metadata();
  assert.deepEqual([meta.width, meta.height], [task.modelOutput.width, task.modelOutput.height]);
  assert.ok(meta.width > meta.height, 'upright again: wider than tall');
  const stats = (await app.inject({ method: 'GET', url: '/v1/reviews/stats' })).json();
  assert.equal(stats.tasks.claimed, 1);
  await app.close();
});

test('through the real pipeline: with auditRate 1 an accepted page is audited, its image kept; a rejected page makes no task', async () => {
  const app = await server(0, 1);
  const before = (await fixture.reviews.counts()).pending;
  const accepted = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: await renderDocument({ lines: ['Customer account 88213', 'Invoice 20417 paid', 'Total amount: 1250.40'], width: 800 }) });
  assert.equal(accepted.json().decision, 'accept');
  const blank = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#eee' } }).png().toBuffer();
  const rejected = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: blank });
  assert.equal(rejected.json().decision, 'reject');
  assert.equal((await fixture.reviews.counts()).pending, before + 1);
  const [audit] = await fixture.reviews.list({ status: 'pending', limit: 1 });
  assert.equal(audit.kind, 'audit');
  assert.equal(audit.predictionId, accepted.json().id);
  assert.notEqual(await fixture.blobs.get(audit.blob), null);
  await app.close();
});
