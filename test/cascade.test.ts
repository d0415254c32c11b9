import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import type { Frame } from '../src/core/frame.js';
import { cropRegion } from '../src/core/preprocess/region.js';
import { ingestConfigSchema } from '../src/image/config.js';
import { ingestImage } from '../src/image/ingest.js';
import { pipelineConfigSchema } from '../src/pipeline/config.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { createPredictionService } from '../src/pipeline/service.js';
import { readRegisteredModel, registerModel } from '../src/registry/local-models.js';
import { builtinManifests } from '../src/runtime/builtin.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import { openStores } from '../src/store/open.js';
import { renderDocument } from './fixtures/documents.js';
import { documentOf } from './helpers/results.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-cascade-'));
const modelsDir = join(dir, 'models');
const LINES = ['Invoice 20417 paid', 'Total amount: 1250.40', 'Customer account 88213'];
const MORE_LINES = [...LINES, 'Delivery street 41', 'Order 55120 shipped', 'Balance due: 0.00'];
let page: Frame;

before(async () => {
  page = (await ingestImage(await renderDocument({ lines: LINES, width: 900 }), ingestConfigSchema.parse({}))).frame;
  // A stand-in for an INT8 recogniser: the built-in weights registered as a child version.
  const { recognition } = await builtinManifests();
  const { path: _path, sha256: _sha, ...manifest } = recognition;
  await registerModel(modelsDir, {
    manifest: { ...manifest, id: 'rec-copy', version: '1' },
    bytes: readFileSync(recognition.path),
    parent: { id: recognition.id, version: recognition.version, sha256: recognition.sha256 },
    notes: { made: 'copied for a test' },
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a registered model keeps its weights hash and its parent', async () => {
  const { recognition } = await builtinManifests();
  const registered = await readRegisteredModel(modelsDir, 'rec-copy@1');
  assert.equal(registered.manifest.sha256, recognition.sha256);
  assert.deepEqual(registered.parent, { id: recognition.id, version: recognition.version, sha256: recognition.sha256 });
  await assert.rejects(readRegisteredModel(modelsDir, 'rec-copy@2'), { code: 'MODEL_NOT_FOUND' });
});

async function readWithCascade(acceptAbove: number) {
  const pipeline = await loadDocumentPipeline(
    pipelineConfigSchema.parse({ recognition: { cascade: { fastModel: 'rec-copy@1', acceptAbove } } }),
    runtimeConfigSchema.parse({ workers: 1 }),
    { modelsDir },
  );
  try {
    return { read: await pipeline.read(page, { exifOrientation: 1 }), models: pipeline.models };
  } finally {
    await pipeline.close();
  }
}

test('lines the fast model reads confidently exit early; the others are read again by the accurate model', async () => {
  const everyLineExits = await readWithCascade(0);
  assert.deepEqual(everyLineExits.read.result.cascade, { lines: 3, earlyExits: 3 });
  assert.ok(everyLineExits.models.some((model) => model.role === 'recognition-fast' && model.id === 'rec-copy'));
  const noLineExits = await readWithCascade(1);
  assert.deepEqual(noLineExits.read.result.cascade, { lines: 3, earlyExits: 0 });
  assert.equal(everyLineExits.read.result.text, noLineExits.read.result.text);
});

test('a region of interest is cropped before the gate and the models see the image', async () => {
  const region = cropRegion(page, { left: 10, top: 20, width: 30, height: 5 });
  assert.equal(region.width, 30);
  assert.equal(region.height, 5);
  assert.deepEqual([...region.data.subarray(0, 3)], [...page.data.subarray((20 * page.width + 10) * 3, (20 * page.width + 10) * 3 + 3)]);
  assert.equal(cropRegion(page, { left: page.width - 5, top: 0, width: 100, height: 10 }).width, 5, 'clipped to the frame');
  assert.throws(() => cropRegion(page, { left: page.width + 1, top: 0, width: 10, height: 10 }), { code: 'INVALID_REQUEST' });

  // Of six lines (32 px type, 57.6 px apart, from y = 48), the top 215 pixels hold the first three.
  const config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`, 'pipeline.roi={"left":0,"top":0,"width":900,"height":215}'] });
  const pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
  const stores = openStores(config.data);
  try {
    const service = createPredictionService({ config, pipeline, store: stores.predictions, blobs: stores.blobs });
    const record = await service.predict(await renderDocument({ lines: MORE_LINES, width: 900 }), {});
    assert.deepEqual(
      documentOf(record.result).lines.map((line) => line.text.replace(/\s+/g, '')),
      LINES.map((line) => line.replace(/\s+/g, '')),
    );
    assert.ok(record.image.height > 300, 'the record describes the image as sent');
  } finally {
    await pipeline.close();
    await stores.close();
  }
});
