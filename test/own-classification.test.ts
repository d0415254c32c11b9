import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import type { PredictionRecord } from '../src/core/records/prediction.js';
import { blank, renderDocument, rotated } from './fixtures/documents.js';
import { visionops as cli } from './helpers/cli.js';

const EXAMPLE = resolve(import.meta.dirname, '..', 'examples', 'line-orientation', 'manifest.json');
const dir = mkdtempSync(join(tmpdir(), 'visionops-own-classification-'));
const data = join(dir, 'data');
let system: Visionops;
let app: FastifyInstance;
let line: Buffer;

/** One printed line cropped close, as a text detector hands lines to the orientation classifier. */
async function printedLine(text: string): Promise<Buffer> {
  const page = await renderDocument({ lines: [text], width: 560, fontSize: 28 });
  return sharp(page).trim().extend({ top: 6, bottom: 6, left: 6, right: 6, background: '#ffffff' }).png().toBuffer();
}

/** The example manifest with upside-down lines always reviewed, so their images are kept for the ImageFolder export. */
function reviewingManifest(): string {
  const manifest = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
  const path = join(dir, 'orientation-review.json');
  writeFileSync(path, JSON.stringify({ ...manifest, name: 'orientation-review', model: resolve(EXAMPLE, '..', manifest.model), decision: { ...manifest.decision, alwaysReview: ['180'] } }));
  return path;
}

const sets = () => ['--set', `data.dir=${JSON.stringify(data)}`, '--set', `pipelines=${JSON.stringify([{ name: 'orientation-review', task: 'classification', manifest: reviewingManifest() }])}`];

before(async () => {
  line = await printedLine('Total amount 1250.40 paid');
  // Registered as a user would, then served by a system started afterwards.
  const added = await cli('pipelines', 'add', EXAMPLE, ...sets());
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /added classification pipeline line-orientation \(model line-orientation@[0-9a-f]{12}\)/);
  assert.match(added.stdout, /restart visionops serve to load it/);
  const config = loadConfig({ sets: ['server.logLevel="silent"', 'runtime.workers=0', ...sets().filter((s) => s !== '--set')] });
  system = await createVisionops(config, { overrides: { lab: [] } });
  app = await system.server();
});

after(async () => {
  await system?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function predict(pipeline: string, image: Buffer): Promise<PredictionRecord> {
  const response = await app.inject({ method: 'POST', url: `/v1/predict?pipeline=${pipeline}`, headers: { 'content-type': 'image/png' }, payload: image });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as PredictionRecord;
}

test('visionops pipelines add refuses a manifest with a bad key, naming it, and registers nothing', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(EXAMPLE, 'utf8')), name: 'bad', input: { width: 0, height: 48, layout: 'CHW' } }));
  const outcome = await cli('pipelines', 'add', bad, ...sets());
  assert.equal(outcome.code, 2, outcome.stdout);
  assert.match(outcome.stderr, /INVALID_CONFIG: Invalid model manifest .*bad\.json:\n {2}- input\.width: .*\n {2}- input\.layout: /);
  assert.ok(!readdirSync(join(data, 'pipelines')).includes('bad'));
});

test('visionops pipelines list shows the configured pipeline and the registered one', async () => {
  const listed = await cli('pipelines', 'list', '--json', ...sets());
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as { name: string; task: string; manifest: string }[];
  assert.deepEqual(rows.map((row) => [row.name, row.task]), [['orientation-review', 'classification'], ['line-orientation', 'classification']]);
  assert.equal(rows[1].manifest, join(data, 'pipelines', 'line-orientation', 'manifest.json'));
  // The registered manifest points at the model's copy in the registry, labels written in.
  const registered = JSON.parse(readFileSync(rows[1].manifest, 'utf8'));
  assert.deepEqual(registered.output.labels, ['0', '180']);
  assert.ok(readdirSync(join(data, 'models', 'line-orientation')).includes(registered.version));
});

test('the PP-OCR line orientation classifier, declared by its manifest, through POST /v1/predict?pipeline=line-orientation', async () => {
  const upright = await predict('line-orientation', line);
  assert.deepEqual(upright.result && 'labels' in upright.result && upright.result.labels.map((l) => l.label), ['0', '180']);
  const [best, other] = (upright.result as { labels: { score: number }[] }).labels;
  assert.ok(best.score > 0.99 && Math.abs(best.score + other.score - 1) < 1e-5, `softmax scores ${best.score}, ${other.score}`);
  assert.equal(upright.decision, 'accept');
  assert.equal(upright.lineage.pipeline.id, 'line-orientation');
  assert.ok(upright.timings.classification > 0);

  const upsideDown = await predict('line-orientation', await rotated(line, 180));
  assert.equal((upsideDown.result as { labels: { label: string; score: number }[] }).labels[0].label, '180');
  assert.ok((upsideDown.result as { labels: { score: number }[] }).labels[0].score > 0.99);
});

test('the gate keeps running: an empty image is rejected with its guidance and no model runs', async () => {
  const empty = await predict('line-orientation', await blank(192, 48));
  assert.equal(empty.decision, 'reject');
  assert.equal(empty.result, null);
  assert.ok(empty.reasons.every((r) => r.code.startsWith('QUALITY_FAILED:')), JSON.stringify(empty.reasons));
  assert.equal(empty.lineage.models.length, 0);
});

test('a label always reviewed goes to review, and ImageFolder exports the kept images under their labels', async () => {
  const turned = await predict('orientation-review', await rotated(await printedLine('Invoice 20417 paid'), 180));
  assert.equal(turned.decision, 'review');
  assert.deepEqual(turned.reasons.map((r) => r.code), ['REVIEW_LABEL']);
  assert.equal((await predict('orientation-review', line)).decision, 'accept');
  const out = join(dir, 'imagefolder');
  const exported = await cli('export', '--format', 'imagefolder', '--pipeline', 'orientation-review', '--out', out, ...sets());
  assert.equal(exported.code, 0, exported.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['180', 'manifest.json']);
  assert.deepEqual(readdirSync(join(out, '180')), [`${turned.id}.jpg`]);
});
