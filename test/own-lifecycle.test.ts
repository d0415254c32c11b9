import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { createVisionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import type { PredictionRecord } from '../src/core/records/prediction.js';
import type { VersionView } from '../src/registry/registry.js';
import type { ModelVersion } from '../src/registry/types.js';
import { squaresDetector } from '../scripts/make-squares-detector.js';
import { identityModel } from './fixtures/models.js';
import { visionops as cli } from './helpers/cli.js';

const EXAMPLE = resolve(import.meta.dirname, '..', 'examples', 'bright-squares');
const SLOT = 'bright-squares';
const dir = mkdtempSync(join(tmpdir(), 'visionops-own-lifecycle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A dark 256 x 128 picture with one white 64-pixel square at (64, 32): the example finds it with score 1. */
function whiteSquare(): Promise<Buffer> {
  return sharp(Buffer.from('<svg width="256" height="128" xmlns="http://www.w3.org/2000/svg"><rect width="256" height="128" fill="#282828"/><rect x="64" y="32" width="64" height="64" fill="#fff"/></svg>'))
    .png()
    .toBuffer();
}

async function listed(data: string[]): Promise<VersionView[]> {
  const outcome = await cli('models', 'list', '--json', ...data);
  assert.equal(outcome.code, 0, outcome.stderr);
  return (JSON.parse(outcome.stdout) as { versions: VersionView[] }).versions.filter((v) => v.model === SLOT);
}

async function run(...args: string[]): Promise<string> {
  const outcome = await cli(...args);
  assert.equal(outcome.code, 0, outcome.stderr);
  return outcome.stdout;
}

test('a configured own pipeline is registered when the system starts: its weights copied under data.dir/models, in production', async () => {
  const data = join(dir, 'configured');
  const config = loadConfig({
    sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(data)}`, 'runtime.workers=0', `pipelines=${JSON.stringify([{ name: 'squares', task: 'detection', manifest: join(EXAMPLE, 'manifest.json') }])}`],
  });
  for (let start = 0; start < 2; start++) {
    // The second start finds the same weights registered and changes nothing.
    const system = await createVisionops(config, { scope: 'run', overrides: { lab: [] } });
    try {
      const versions = await system.stores.models.versions(SLOT);
      assert.deepEqual(versions.map((v) => [v.version, v.origin, v.parent]), [['1', 'import', null]]);
      assert.deepEqual(versions[0].signature.outputs, [{ name: 'output0', shape: [1, 6, 169] }]);
      assert.equal(versions[0].manifest.path, join(data, 'models', SLOT, '1', 'model.onnx'));
      assert.ok(existsSync(versions[0].manifest.path));
      assert.deepEqual((await system.stores.models.assignments(SLOT)).map((a) => [a.version, a.stage]), [['1', 'production']]);
    } finally {
      await system.close();
    }
  }
});

test('pipelines add registers the model (idempotent); models add checks the slot; canary, promotion and rollback change the version that answers', async () => {
  const dataDir = join(dir, 'registered');
  const data = ['--data', dataDir];
  const added = await run('pipelines', 'add', join(EXAMPLE, 'manifest.json'), ...data);
  assert.match(added, /model bright-squares@1 registered; it is in production/);
  const again = await run('pipelines', 'add', join(EXAMPLE, 'manifest.json'), ...data);
  assert.match(again, /model bright-squares@1 was registered already; it is in production/);
  const first = await listed(data);
  assert.deepEqual(first.map((v) => [v.version, v.origin, v.stage]), [['1', 'import', 'production']]);
  assert.deepEqual(first[0].signature.inputs, [{ name: 'images', shape: [1, 3, 64, 64] }]);

  writeFileSync(join(dir, 'identity.onnx'), identityModel('y'));
  const refused = await cli('models', 'add', join(dir, 'identity.onnx'), '--model', SLOT, ...data);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /MODEL_SIGNATURE_MISMATCH/);

  // Retrained weights: the same graph, its class scores scaled by 0.95.
  writeFileSync(join(dir, 'retrained.onnx'), squaresDetector({ scoreScale: 0.95 }));
  const version = JSON.parse(await run('models', 'add', join(dir, 'retrained.onnx'), '--model', SLOT, '--version-name', 'retrained', '--json', ...data)) as ModelVersion;
  assert.deepEqual([version.origin, version.parent, version.preprocessHash], ['import', '1', first[0].preprocessHash]);
  assert.notEqual(version.sha256, first[0].sha256);
  await run('models', 'stage', SLOT, 'retrained', 'canary', '--weight', '1', ...data);
  assert.deepEqual((await listed(data)).map((v) => [v.version, v.stage, v.weight]), [
    ['1', 'production', null],
    ['retrained', 'canary', 1],
  ]);

  // The registered pipeline loads at start and routes as the registry says.
  const config = loadConfig({
    sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dataDir)}`, 'runtime.workers=0', `pipelines=${JSON.stringify([{ name: 'squares', task: 'detection', manifest: join(EXAMPLE, 'manifest.json') }])}`],
  });
  const system = await createVisionops(config, { overrides: { lab: [] } });
  try {
    const app = await system.server();
    const image = await whiteSquare();
    const predict = async (): Promise<PredictionRecord> => {
      const response = await app.inject({ method: 'POST', url: `/v1/predict?pipeline=${SLOT}`, headers: { 'content-type': 'image/png' }, payload: image });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as PredictionRecord;
    };
    const answered = async () => {
      const record = await predict();
      const [model] = record.lineage.models;
      const stored = await system.stores.predictions.get(record.id);
      assert.deepEqual(stored?.lineage.models.map((m) => [m.version, m.lifecycle]), [[model.version, model.lifecycle]], 'the kept record names the same version and stage');
      return { version: model.version, stage: model.lifecycle, sha256: model.sha256, boxes: 'boxes' in record.result! ? record.result.boxes : null };
    };

    const canary = await answered();
    assert.deepEqual([canary.version, canary.stage, canary.sha256], ['retrained', 'canary', version.sha256]);
    assert.deepEqual(canary.boxes?.map((b) => [b.label, Number(b.score.toFixed(4)), b.box]), [['white', 0.95, [64, 32, 128, 96]]]);

    await run('models', 'stage', SLOT, 'retrained', 'production', ...data);
    await system.lifecycle.refresh();
    assert.deepEqual(await answered().then((a) => [a.version, a.stage]), ['retrained', 'production']);

    await run('models', 'rollback', SLOT, ...data);
    await system.lifecycle.refresh();
    const back = await answered();
    assert.deepEqual([back.version, back.stage, back.sha256], ['1', 'production', first[0].sha256]);
    assert.deepEqual(back.boxes?.map((b) => [b.label, b.score, b.box]), [['white', 1, [64, 32, 128, 96]]]);
  } finally {
    await system.close();
  }
});
