import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { createVisionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { PredictionDrift, summarizePrediction, type PredictionSummary } from '../src/core/monitor/prediction-drift.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-own-monitor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const classified = (label: string, score: number, unsure = false): PredictionSummary =>
  summarizePrediction({ labels: [{ label, score }] }, unsure ? [{ code: 'LOW_CONFIDENCE', message: '' }] : [], { width: 10, height: 10 }) as PredictionSummary;

test('prediction drift: the label PSI moves when the label mix changes and stays low when it does not; the unsure share tells new categories', () => {
  const options = { referenceImages: 40, windowImages: 20, bins: 10 };
  const mixed = (i: number) => classified(i % 2 === 0 ? 'ok' : 'dent', 0.9 + (i % 5) / 100);
  const steady = new PredictionDrift('p', options);
  const shifted = new PredictionDrift('p', options);
  for (let i = 0; i < 40; i++) {
    steady.observe(mixed(i));
    shifted.observe(mixed(i));
  }
  assert.deepEqual(steady.status().features, [], 'nothing to compare before the window holds predictions');
  for (let i = 0; i < 20; i++) {
    steady.observe(mixed(i));
    // A new kind of part the model calls "dent" with less confidence, and is unsure of.
    shifted.observe(classified('dent', 0.6, true));
  }
  const psi = (drift: PredictionDrift, feature: string) => drift.status().features.find((f) => f.feature === feature)?.psi ?? NaN;
  assert.ok(psi(steady, 'label') < 0.01, `steady label PSI ${psi(steady, 'label')}`);
  assert.ok(psi(shifted, 'label') > 0.25, `shifted label PSI ${psi(shifted, 'label')}`);
  assert.ok(psi(shifted, 'confidence') > 0.25, `shifted confidence PSI ${psi(shifted, 'confidence')}`);
  assert.deepEqual(shifted.status().unsure, { reference: 0, window: 1 });
  assert.deepEqual(shifted.status().labels.window, { dent: 1 });
  assert.equal(shifted.status().ready, true);
});

test('prediction drift of a detector reads the box count and the boxes relative size', () => {
  const boxes = (count: number, side: number): PredictionSummary =>
    summarizePrediction({ boxes: Array.from({ length: count }, () => ({ label: 'car', score: 0.9, box: [0, 0, side, side] as [number, number, number, number] })) }, [], { width: 100, height: 100 }) as PredictionSummary;
  assert.deepEqual(boxes(2, 10).boxAreas, [0.01, 0.01]);
  const drift = new PredictionDrift('p', { referenceImages: 30, windowImages: 30, bins: 10 });
  for (let i = 0; i < 30; i++) drift.observe(boxes(1 + (i % 3), 10 + (i % 7)));
  for (let i = 0; i < 30; i++) drift.observe(boxes(6 + (i % 3), 40 + (i % 7)));
  const features = Object.fromEntries(drift.status().features.map((f) => [f.feature, f.psi]));
  assert.ok(features.box_count > 0.25 && features.box_area > 0.25, JSON.stringify(features));
  assert.ok(features.label < 0.01, 'the labels did not change');
});

test('through the monitor: the label gauge and the predictionDrift alert move when a detector starts seeing another colour', async () => {
  const manifest = resolve(import.meta.dirname, '..', 'examples', 'bright-squares', 'manifest.json');
  const config = loadConfig({
    sets: [
      'server.logLevel="silent"',
      `data.dir=${JSON.stringify(join(dir, 'data'))}`,
      'runtime.workers=0',
      `pipelines=${JSON.stringify([{ name: 'squares', task: 'detection', manifest }])}`,
      'quality.information.minEdgeDensity=0',
      'quality.blur.failBelow=0.001',
      'quality.blur.warnBelow=0.002',
      'monitor.alerts.predictionDrift.referenceImages=6',
      'monitor.alerts.predictionDrift.windowImages=6',
    ],
  });
  const system = await createVisionops(config, { overrides: { lab: [] } });
  try {
    const app = await system.server();
    const post = async (x: number, fill: string) => {
      const svg = `<svg width="256" height="128" xmlns="http://www.w3.org/2000/svg"><rect width="256" height="128" fill="#282828"/><rect x="${x}" y="32" width="64" height="64" fill="${fill}"/></svg>`;
      const response = await app.inject({ method: 'POST', url: '/v1/predict?pipeline=squares', headers: { 'content-type': 'image/png' }, payload: await sharp(Buffer.from(svg)).png().toBuffer() });
      assert.equal(response.statusCode, 200, response.body);
    };
    const gauge = async () => Number(/visionops_prediction_drift_psi\{pipeline="squares",feature="label"\} (\S+)/.exec((await app.inject({ method: 'GET', url: '/metrics' })).body)?.[1]);
    const alert = async () => ((await app.inject({ method: 'GET', url: '/v1/alerts' })).json().alerts as { rule: string; state: string }[]).find((a) => a.rule === 'predictionDrift')?.state;
    // Six white squares make the reference, six more the first window: no drift.
    for (let i = 0; i < 12; i++) await post(16 * i, '#fff');
    assert.ok((await gauge()) < 0.01, `label PSI ${await gauge()} with the same colour`);
    assert.notEqual(await alert(), 'firing');
    // Red squares only.
    for (let i = 0; i < 6; i++) await post(16 * i, '#f00');
    assert.ok((await gauge()) > 0.25, `label PSI ${await gauge()} once red took over`);
    assert.equal(await alert(), 'firing');
    const summary = (await app.inject({ method: 'GET', url: '/v1/monitor/summary' })).json();
    assert.deepEqual(summary.predictionDrift[0].labels.window, { red: 1 });
  } finally {
    await system.close();
  }
});
