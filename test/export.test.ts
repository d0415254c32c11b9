import assert from 'node:assert/strict';
import { ingestConfigSchema } from '../src/image/config.js';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { resolveAnswer } from '../src/review/answer.js';
import { exportDataset } from '../src/review/export/export.js';
import type { ReviewTask } from '../src/core/records/review.js';
import { visionops } from './helpers/cli.js';
import { boxOfRenderedLine, closeFixture, MODEL_VERSION, reviewFixture, seedTask, type ReviewFixture } from './helpers/review.js';

const WIDTH = 900;
const TRUTH = ['Invoice 20417 paid', 'Total amount: 1250.40', 'Customer account 88213'];
const READ = [
  { text: 'Invoice 20417 paid', confidence: 0.99 },
  { text: 'Totl amount: 1250.40', confidence: 0.62 },
  { text: '~~', confidence: 0.55 },
];

let fixture: ReviewFixture;
let corrected: ReviewTask;
let confirmed: ReviewTask;

async function answerNext(body: Parameters<typeof resolveAnswer>[1]): Promise<ReviewTask> {
  const task = (await fixture.reviews.claim('ana', 60_000)) as ReviewTask;
  return fixture.reviews.answer(task.id, resolveAnswer(task, body, 'ana', new Date(fixture.clock.ms)));
}

before(async () => {
  fixture = reviewFixture('visionops-export-');
  await seedTask(fixture, { truth: TRUTH, read: READ, width: WIDTH });
  await seedTask(fixture, { truth: TRUTH.slice(0, 2), read: READ.slice(0, 2).map((line) => ({ ...line, text: TRUTH[READ.indexOf(line)] })), kind: 'audit', width: WIDTH });
  await seedTask(fixture, { truth: TRUTH, read: READ, width: WIDTH });
  corrected = await answerNext({
    verdict: 'correct',
    lines: [{ index: 1, text: 'Total amount: 1250.40' }],
    removed: [2],
    added: [{ box: boxOfRenderedLine(2, WIDTH), text: 'Customer account 88213' }],
  });
  await answerNext({ verdict: 'unusable', reason: 'glare' });
  confirmed = await answerNext({ verdict: 'confirm' });
});
after(async () => {
  await closeFixture(fixture);
  rmSync(fixture.dir, { recursive: true, force: true });
});

const outDir = (name: string) => join(fixture.dir, 'exports', name);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** The manifest lists every file beside it, with its true SHA-256 and size. */
function checkedManifest(dir: string) {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.files.map((file: { path: string }) => file.path), listFiles(dir).filter((path) => path !== 'manifest.json'));
  for (const file of manifest.files) {
    const bytes = readFileSync(join(dir, file.path));
    assert.equal(file.sha256, createHash('sha256').update(bytes).digest('hex'), file.path);
    assert.equal(file.bytes, bytes.byteLength);
  }
  assert.match(manifest.id, /^[0-9a-f]{64}$/);
  return manifest;
}

test('paddleocr: the recognition list names crops that exist, with the corrected text; the detection list has the boxes', async () => {
  const dir = outDir('paddle');
  const { manifest, unusableSkipped } = await exportDataset(fixture.reviews, fixture.blobs, { out: dir, format: 'paddleocr', limits: ingestConfigSchema.parse({}) });
  assert.equal(unusableSkipped, 1);
  assert.deepEqual(checkedManifest(dir), manifest);
  assert.deepEqual(manifest.counts, { images: 2, lines: 5, correctedLines: 2, files: 2 + 5 + 2 });
  assert.deepEqual(manifest.predictions, [corrected.predictionId, confirmed.predictionId].sort());
  assert.deepEqual(manifest.modelVersions, [MODEL_VERSION]);

  const rows = readFileSync(join(dir, 'rec_gt.txt'), 'utf8').trimEnd().split('\n').map((row) => row.split('\t'));
  assert.deepEqual(rows.map(([, text]) => text), ['Invoice 20417 paid', 'Total amount: 1250.40', 'Customer account 88213', 'Invoice 20417 paid', 'Total amount: 1250.40']);
  for (const [path] of rows) {
    assert.ok(existsSync(join(dir, path)), `${path} exists`);
    const meta = await sharp(join(dir, path)).metadata();
    assert.equal(meta.format, 'png');
    assert.ok(meta.width > meta.height * 3, `${path} is a line crop (${meta.width} x ${meta.height})`);
  }
  const detection = readFileSync(join(dir, 'det_gt.txt'), 'utf8').trimEnd().split('\n').map((row) => row.split('\t'));
  assert.equal(detection.length, 2);
  const regions = JSON.parse(detection[0][1]);
  assert.deepEqual(regions[1], { transcription: 'Total amount: 1250.40', points: boxOfRenderedLine(1, WIDTH) });
  assert.ok(existsSync(join(dir, detection[0][0])));
});

test('label-studio: OCR template tasks with rectangle, label and transcription per region in percent, and the model output as prediction', async () => {
  const dir = outDir('label-studio');
  await exportDataset(fixture.reviews, fixture.blobs, { out: dir, format: 'label-studio', limits: ingestConfigSchema.parse({}) });
  checkedManifest(dir);
  const config = readFileSync(join(dir, 'label-studio.xml'), 'utf8');
  const names = new Set([...config.matchAll(/ name="([^"]+)"/g)].map((match) => match[1]));
  const tasks = JSON.parse(readFileSync(join(dir, 'label-studio.json'), 'utf8'));
  assert.ok(Array.isArray(tasks) && tasks.length === 2, 'an array of tasks');
  for (const task of tasks) {
    assert.match(task.data.ocr, /^\/data\/local-files\/\?d=images\/[0-9a-f-]+\.jpg$/);
    assert.ok(existsSync(join(dir, task.data.ocr.replace('/data/local-files/?d=', ''))));
    for (const result of [...task.annotations[0].result, ...task.predictions[0].result]) {
      assert.ok(names.has(result.from_name) && names.has(result.to_name), `${result.from_name} -> ${result.to_name} are in the labeling config`);
      for (const key of ['x', 'y', 'width', 'height']) assert.ok(result.value[key] >= 0 && result.value[key] <= 100, `${key} in percent`);
      assert.equal(result.original_width, WIDTH);
    }
    const ids = new Set(task.annotations[0].result.map((result: { id: string }) => result.id));
    for (const id of ids) {
      const types = task.annotations[0].result.filter((result: { id: string }) => result.id === id).map((result: { type: string }) => result.type);
      assert.deepEqual(types, ['rectangle', 'labels', 'textarea'], 'each region has its box, label and transcription');
    }
  }
  const first = tasks.find((task: { data: { predictionId: string } }) => task.data.predictionId === corrected.predictionId);
  const transcriptions = first.annotations[0].result.filter((result: { type: string }) => result.type === 'textarea').map((result: { value: { text: string[] } }) => result.value.text[0]);
  assert.deepEqual(transcriptions, TRUTH.slice(0, 2).concat(TRUTH[2]));
  const box = boxOfRenderedLine(1, WIDTH);
  const rectangle = first.annotations[0].result.find((result: { id: string; type: string }) => result.id === 'r1' && result.type === 'rectangle');
  const height = corrected.modelOutput.height;
  assert.deepEqual(rectangle.value, {
    x: Math.round((box[0][0] / WIDTH) * 1e6) / 1e4,
    y: Math.round((box[0][1] / height) * 1e6) / 1e4,
    width: Math.round(((box[1][0] - box[0][0]) / WIDTH) * 1e6) / 1e4,
    height: Math.round(((box[3][1] - box[0][1]) / height) * 1e6) / 1e4,
    rotation: 0,
  });
  assert.equal(first.predictions[0].model_version, MODEL_VERSION);
});

test('jsonl: one page a line with the image, the person text and the model text', async () => {
  const dir = outDir('jsonl');
  await exportDataset(fixture.reviews, fixture.blobs, { out: dir, format: 'jsonl', limits: ingestConfigSchema.parse({}) });
  checkedManifest(dir);
  const rows = readFileSync(join(dir, 'labels.jsonl'), 'utf8').trimEnd().split('\n').map((row) => JSON.parse(row));
  assert.equal(rows.length, 2);
  const row = rows.find((candidate) => candidate.predictionId === corrected.predictionId);
  assert.deepEqual(row.lines[1], { box: boxOfRenderedLine(1, WIDTH), text: 'Total amount: 1250.40', modelText: 'Totl amount: 1250.40', corrected: true });
  assert.equal(row.lines[2].modelText, null, 'the line the person added');
  assert.equal(row.reviewedBy, 'ana');
  const image = await sharp(join(dir, row.image)).metadata();
  assert.deepEqual([image.width, image.height], [row.width, row.height]);
});

test('visionops export: two exports of the same reviews share their id; a filter that changes the content changes it', async () => {
  const run = (name: string, ...extra: string[]) => visionops('export', '--data', fixture.dir, '--out', outDir(name), '--format', 'paddleocr', ...extra);
  const first = await run('cli-1');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /2 images, 5 lines \(2 corrected\)/);
  const second = await run('cli-2');
  const idOf = (name: string) => JSON.parse(readFileSync(join(outDir(name), 'manifest.json'), 'utf8')).id;
  assert.equal(second.code, 0, second.stderr);
  assert.equal(idOf('cli-1'), idOf('cli-2'));
  assert.equal(idOf('cli-1'), JSON.parse(readFileSync(join(outDir('paddle'), 'manifest.json'), 'utf8')).id);

  const onlyCorrected = await run('cli-corrected', '--only-corrected');
  assert.equal(onlyCorrected.code, 0, onlyCorrected.stderr);
  assert.equal(JSON.parse(readFileSync(join(outDir('cli-corrected'), 'manifest.json'), 'utf8')).counts.images, 1);
  assert.notEqual(idOf('cli-corrected'), idOf('cli-1'));

  const future = await run('cli-future', '--since', '2999-01-01');
  assert.equal(future.code, 0, future.stderr);
  assert.equal(JSON.parse(readFileSync(join(outDir('cli-future'), 'manifest.json'), 'utf8')).counts.images, 0);

  const again = await run('cli-1');
  assert.equal(again.code, 2, 'a folder that is not empty is refused');
  assert.match(again.stderr, /not empty/);
  const badDate = await run('cli-bad', '--since', 'yesterday');
  assert.equal(badDate.code, 2);
  assert.ok(statSync(outDir('cli-1')).isDirectory());
});
