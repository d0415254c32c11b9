import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import type { MonitorObservation } from '../src/core/monitor/features.js';
import { observationOf, observeImage } from '../src/monitor/observation.js';
import { createVisionops } from '../src/app/visionops.js';
import { checkImage } from '../src/pipeline/service.js';
import { renderDocument } from './fixtures/documents.js';
import { fixedReadingPipeline } from './helpers/pipelines.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Of six lines (32 px type, 57.6 px apart, from y = 48), the top 215 pixels hold the first three.
const ROI = 'pipeline.roi={"left":0,"top":0,"width":900,"height":215}';
const page = () => renderDocument({ lines: ['Invoice 20417 paid', 'Total amount: 1250.40', 'Customer account 88213', 'Delivery street 41', 'Order 55120 shipped', 'Balance due: 0.00'], width: 900 });

/** What the monitor observes of one image sent through the production path. */
async function observedInProduction(sets: string[], bytes: Uint8Array): Promise<MonitorObservation> {
  const config = loadConfig({ sets: [`data.dir=${JSON.stringify(join(dir, String(sets.length)))}`, 'cache.enabled=false', ...sets] });
  const seen: MonitorObservation[] = [];
  const visionops = await createVisionops(config, { scope: 'run', overrides: { pipelines: [fixedReadingPipeline], observers: [{ recorded: (p) => void seen.push(observationOf(p)) }] } });
  try {
    await visionops.services.get().predict(bytes, {});
  } finally {
    await visionops.close();
  }
  return seen[0];
}

test('a reference profile observes the crop production reads: the region of interest, gate scores and descriptor alike', async () => {
  const bytes = await page();
  const production = await observedInProduction([ROI], bytes);
  const profiled = await observeImage(bytes, loadConfig({ sets: [ROI] }), fixedReadingPipeline);
  assert.deepEqual(profiled, production);
  const gateOnly = await observeImage(bytes, loadConfig({ sets: [ROI] }));
  assert.deepEqual(gateOnly.quality, production.quality);
  assert.deepEqual(gateOnly.descriptor, production.descriptor);

  const whole = await observeImage(bytes, loadConfig(), fixedReadingPipeline);
  assert.notDeepEqual(whole.descriptor, production.descriptor, 'the crop changes what is measured');
});

test('the gate-only check is the production runner stopped at the gate: same report, no model stage timed', async () => {
  const bytes = await page();
  const config = loadConfig({ sets: [ROI] });
  const checked = await checkImage((await createVisionops(config, { scope: 'gate' })).runner(), bytes);
  const production = await observedInProduction([ROI], bytes);
  assert.deepEqual(checked.quality, production.quality);
  assert.deepEqual(Object.keys(checked.timings).sort(), ['decode', 'gate', 'roi', 'total']);
  assert.equal(checked.image.height > 215, true, 'the check describes the image as sent');
});

test('several pipelines in one server: ?pipeline= chooses, each with its own lineage and settings; an unknown name is a coded 400', async () => {
  const config = loadConfig({
    sets: [
      'server.logLevel="silent"',
      `data.dir=${JSON.stringify(join(dir, 'two'))}`,
      'pipelines=[{"name":"document"},{"name":"strict","settings":{"decision":{"reviewThreshold":0.999}}}]',
    ],
  });
  const visionops = await createVisionops(config, { overrides: { pipelines: [fixedReadingPipeline, { ...fixedReadingPipeline, name: 'strict' }] } });
  try {
    const app = await visionops.server();
    const bytes = await page();
    const post = (query: string) => app.inject({ method: 'POST', url: `/v1/predict${query}`, headers: { 'content-type': 'image/png' }, payload: bytes });
    const first = (await post('')).json();
    assert.equal(first.lineage.pipeline.id, 'document');
    assert.equal(first.decision, 'accept', 'lines read at 0.99 and 0.97 pass the default threshold 0.93');
    const strict = (await post('?pipeline=strict')).json();
    assert.equal(strict.lineage.pipeline.id, 'strict');
    assert.equal(strict.decision, 'review', 'its own threshold, 0.999');
    assert.equal(strict.lineage.cache, undefined, 'the same bytes under another pipeline are not its answer');
    assert.notEqual(strict.lineage.configHash, first.lineage.configHash);
    const unknown = await post('?pipeline=receipts');
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error.code, 'UNKNOWN_PIPELINE');
    assert.match(unknown.json().error.message, /document, strict/);
  } finally {
    await visionops.close();
  }
});
