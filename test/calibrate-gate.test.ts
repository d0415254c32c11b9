import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { visionops } from './helpers/cli.js';
import { photograph } from './fixtures/captures.js';
import { blurred } from './fixtures/documents.js';
import { packshot, workbench } from './fixtures/scenes.js';

let dir: string;
let goodSharpness: number[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'visionops-calibrate-'));
  mkdirSync(join(dir, 'good'));
  mkdirSync(join(dir, 'bad'));
  const scenes = [await photograph(21), await photograph(22, 1.2), (await workbench(21, 3)).image, (await workbench(22, 4)).image, await packshot(21), await packshot(22, 700, 500, '#9a9da0')];
  for (const [i, scene] of scenes.entries()) {
    writeFileSync(join(dir, 'good', `scene-${i}.jpg`), scene);
    writeFileSync(join(dir, 'bad', `scene-${i}.png`), await blurred(scene, 9));
  }
  writeFileSync(join(dir, 'good', 'notes.jpg'), 'not an image');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('calibrate-gate with bad images proposes the sharpness threshold that separates them, with both error rates', async () => {
  const outcome = await visionops('calibrate-gate', join(dir, 'good'), '--bad', join(dir, 'bad'), '--json');
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stderr, /notes\.jpg: skipped, UNSUPPORTED_FORMAT/);
  const report = JSON.parse(outcome.stdout);
  assert.equal(report.good, 6);
  assert.equal(report.bad, 6);
  const sharpness = report.proposals.find((p: { check: string }) => p.check === 'sharpness');
  assert.equal(sharpness.method, 'separation');
  assert.equal(sharpness.goodRefused, 0);
  assert.equal(sharpness.badPassed, 0, 'blurred by sigma 9, every bad image falls below the good ones');
  assert.ok(sharpness.warn >= sharpness.fail);
  assert.equal(report.snippet.gate.content, 'scene');
  assert.equal(report.snippet.gate.scene.sharpness.failBelow, Number(sharpness.fail.toPrecision(3)));
  goodSharpness = [sharpness.fail, sharpness.warn];
});

test('calibrate-gate on good images alone proposes percentiles and prints a snippet the gate settings accept', async () => {
  const outcome = await visionops('calibrate-gate', join(dir, 'good'), '--fail-percentile', '0', '--warn-percentile', '50');
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /6 good scene images measured/);
  assert.match(outcome.stdout, /sharpness: refuse below [0-9.]+, warn below [0-9.]+ \(percentiles of the good images; refuses 0\.0% of the good images/);
  const snippet = JSON.parse(outcome.stdout.slice(outcome.stdout.indexOf('{')));
  const { gateSettingsSchema } = await import('../src/core/quality/gate-settings.js');
  const parsed = gateSettingsSchema.parse(snippet.gate);
  assert.ok(parsed.scene.sharpness.failBelow > goodSharpness[0], 'the least sharp good image is above the separating threshold');
  assert.ok(parsed.scene.sharpness.warnBelow >= parsed.scene.sharpness.failBelow);
  assert.ok(parsed.scene.exposure.darkHighlightsBelow >= parsed.scene.exposure.blackFrameBelow);
});

test('calibrate-gate refuses an unknown content type with a usage error', async () => {
  const outcome = await visionops('calibrate-gate', join(dir, 'good'), '--content', 'video');
  assert.equal(outcome.code, 2);
  assert.match(outcome.stderr, /INVALID_REQUEST: --content "video" is not a content type: use document or scene/);
});
