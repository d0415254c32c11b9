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
import type { ReviewAnswer } from '../src/core/records/review.js';
import { exportOwnDataset } from '../src/review/export/own-formats.js';
import { squaresDetector } from '../scripts/make-squares-detector.js';
import { visionops as cli } from './helpers/cli.js';

const EXAMPLE = resolve(import.meta.dirname, '..', 'examples', 'bright-squares');
const dir = mkdtempSync(join(tmpdir(), 'visionops-own-detection-'));
let system: Visionops;
let app: FastifyInstance;

/** A dark picture with squares of a colour at (x, y, side), in its own pixels. */
function scene(width: number, height: number, squares: { x: number; y: number; side: number; fill: string }[]): Promise<Buffer> {
  const rects = squares.map((s) => `<rect x="${s.x}" y="${s.y}" width="${s.side}" height="${s.side}" fill="${s.fill}"/>`).join('');
  return sharp(Buffer.from(`<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><rect width="${width}" height="${height}" fill="#282828"/>${rects}</svg>`))
    .png()
    .toBuffer();
}

/** The example's manifest, a person always checking red squares, so their images are kept for review and export. */
function reviewingManifest(): string {
  const manifest = JSON.parse(readFileSync(join(EXAMPLE, 'manifest.json'), 'utf8'));
  const path = join(dir, 'squares-review.json');
  writeFileSync(path, JSON.stringify({ ...manifest, name: 'squares-review', model: join(EXAMPLE, 'model.onnx'), decision: { ...manifest.decision, alwaysReview: ['red'] } }));
  return path;
}

const pipelinesSet = () =>
  `pipelines=${JSON.stringify([
    { name: 'squares', task: 'detection', manifest: join(EXAMPLE, 'manifest.json') },
    { name: 'squares-review', task: 'detection', manifest: reviewingManifest() },
  ])}`;

before(async () => {
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(dir, 'data'))}`, 'runtime.workers=0', pipelinesSet()] });
  system = await createVisionops(config, { overrides: { lab: [] } });
  app = await system.server();
});

after(async () => {
  await system.close();
  rmSync(dir, { recursive: true, force: true });
});

async function predict(pipeline: string, image: Buffer): Promise<PredictionRecord> {
  const response = await app.inject({ method: 'POST', url: `/v1/predict?pipeline=${pipeline}`, headers: { 'content-type': 'image/png' }, payload: image });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as PredictionRecord;
}

test('the committed example model is what scripts/make-squares-detector.ts writes', () => {
  assert.ok(readFileSync(join(EXAMPLE, 'model.onnx')).equals(squaresDetector()));
});

test('POST /v1/predict finds the squares: YOLOv8 decoding, NMS, the letterbox undone into original pixels, landscape and portrait', async () => {
  // 256 x 128 letterboxes at ratio 0.25 with 16 rows above; the squares land on the detector's 4-pixel grid.
  const wide = await predict('squares', await scene(256, 128, [{ x: 64, y: 32, side: 64, fill: '#fff' }, { x: 160, y: 64, side: 64, fill: '#f00' }]));
  assert.equal(wide.decision, 'accept');
  assert.deepEqual(wide.result, {
    boxes: [
      { label: 'white', score: 1, box: [64, 32, 128, 96] },
      { label: 'red', score: 1, box: [160, 64, 224, 128] },
    ],
  });
  assert.equal(wide.lineage.pipeline.id, 'squares');
  assert.equal(wide.lineage.models[0].id, 'bright-squares');
  assert.ok(wide.timings.detection > 0, 'the detection stage is timed');
  assert.ok(['pass', 'warn'].includes(wide.quality.verdict), 'the gate ran on the image');
  // 96 x 192 at ratio 1/3, 16 columns left and right.
  const tall = await predict('squares', await scene(96, 192, [{ x: 24, y: 72, side: 48, fill: '#f00' }]));
  assert.deepEqual(tall.result, { boxes: [{ label: 'red', score: 1, box: [24, 72, 72, 120] }] });
  const empty = await predict('squares', await scene(200, 150, []));
  assert.deepEqual([empty.result, empty.decision, empty.reasons.map((r) => r.code)], [{ boxes: [] }, 'accept', ['NO_OBJECTS']]);
});

test('a label always reviewed sends the image to review; COCO and YOLO exports carry the model boxes, or the reviewed ones', async () => {
  const red = await predict('squares-review', await scene(256, 128, [{ x: 64, y: 32, side: 64, fill: '#f00' }]));
  assert.equal(red.decision, 'review');
  assert.deepEqual(red.reasons.map((r) => r.code), ['REVIEW_LABEL']);
  const kept = async (record: PredictionRecord) => (await system.stores.predictions.get(record.id))?.blob ?? null;
  assert.notEqual(await kept(red), null);
  const both = await predict('squares-review', await scene(256, 128, [{ x: 16, y: 16, side: 64, fill: '#fff' }, { x: 160, y: 64, side: 64, fill: '#f00' }]));
  const white = await predict('squares-review', await scene(256, 128, [{ x: 128, y: 48, side: 64, fill: '#fff' }]));
  assert.equal(white.decision, 'accept');
  assert.equal(await kept(white), null, 'an accepted image is not kept');

  // A person relabels the second image's red square as white and removes its white one.
  const reviews = system.stores.reviews;
  // The review queue made a task for each image decided `review`; the person works through them oldest first.
  let task = await reviews.claim('ana', 60_000);
  while (task !== null && task.predictionId !== both.id) task = await reviews.claim('ana', 60_000);
  assert.ok(task !== null, 'the queue holds a task for the image with both squares');
  assert.deepEqual(task.modelOutput.boxes?.map((b) => b.label).sort(), ['red', 'white']);
  const answer: ReviewAnswer = {
    verdict: 'correct',
    lines: [],
    added: [],
    removed: [],
    reason: null,
    linesReviewed: 2,
    linesChanged: 2,
    by: 'ana',
    at: new Date().toISOString(),
    boxes: [{ label: 'white', box: [160, 64, 224, 128] }],
  };
  await reviews.answer(task.id, answer);

  const coco = join(dir, 'coco');
  const exported = await exportOwnDataset(system.stores.predictions, reviews, system.stores.blobs, { out: coco, format: 'coco', pipeline: 'squares-review', labels: ['red', 'white'], limits: system.config.ingest });
  assert.equal(exported.manifest.counts.images, 2);
  assert.equal(exported.reviewed, 1);
  const instances = JSON.parse(readFileSync(join(coco, 'annotations.json'), 'utf8'));
  assert.deepEqual(instances.categories.map((c: { id: number; name: string }) => [c.id, c.name]), [[1, 'red'], [2, 'white']]);
  assert.deepEqual(instances.images.map((i: { file_name: string; width: number; height: number; reviewed: boolean }) => [i.file_name, i.width, i.height, i.reviewed]), [
    [`images/${red.id}.jpg`, 256, 128, false],
    [`images/${both.id}.jpg`, 256, 128, true],
  ]);
  assert.deepEqual(instances.annotations.map((a: { image_id: number; category_id: number; bbox: number[] }) => [a.image_id, a.category_id, a.bbox]), [
    [1, 1, [64, 32, 64, 64]],
    [2, 2, [160, 64, 64, 64]],
  ]);
  assert.deepEqual((await sharp(join(coco, `images/${red.id}.jpg`)).metadata()).width, 256);

  const yolo = join(dir, 'yolo');
  const config = [`--set`, `data.dir=${JSON.stringify(join(dir, 'data'))}`, '--set', pipelinesSet()];
  const outcome = await cli('export', '--format', 'yolo', '--pipeline', 'squares-review', '--out', yolo, ...config);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /2 images \(1 reviewed\), 2 boxes/);
  assert.deepEqual(readdirSync(join(yolo, 'labels')).sort(), [`${both.id}.txt`, `${red.id}.txt`].sort());
  assert.equal(readFileSync(join(yolo, 'labels', `${red.id}.txt`), 'utf8'), '0 0.375000 0.500000 0.250000 0.500000\n');
  assert.equal(readFileSync(join(yolo, 'labels', `${both.id}.txt`), 'utf8'), '1 0.750000 0.750000 0.250000 0.500000\n');
  assert.match(readFileSync(join(yolo, 'data.yaml'), 'utf8'), /names:\n {2}0: "red"\n {2}1: "white"\n/);
  assert.ok(readdirSync(join(yolo, 'images')).includes(`${red.id}.jpg`));
  const manifest = JSON.parse(readFileSync(join(yolo, 'manifest.json'), 'utf8'));
  assert.equal(manifest.format, 'yolo');
});
