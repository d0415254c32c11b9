import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { isDocumentResult, type PredictionRecord } from '../src/core/records/prediction.js';
import { registerVersion } from '../src/registry/registry.js';
import { randomLines, renderDocument } from './fixtures/documents.js';
import { pipelineLog, READINGS, STUB_REC, stubVersion, versionedFactory, versionedPipeline } from './helpers/versioned-pipelines.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-lifecycle-routing-'));
let visionops: Visionops;
let app: FastifyInstance;
let page: Buffer;

function textOf(record: PredictionRecord): string {
  assert.ok(record.result !== null && isDocumentResult(record.result));
  return record.result.text;
}

function recogniser(record: PredictionRecord) {
  const model = record.lineage.models.find((m) => m.id === STUB_REC);
  assert.ok(model !== undefined);
  return model;
}

async function stage(version: string, body: Record<string, unknown>): Promise<void> {
  const response = await app.inject({ method: 'POST', url: `/v1/models/${STUB_REC}/versions/${version}/stage`, payload: body });
  assert.equal(response.statusCode, 200, response.body);
}

const predict = (client?: string) => visionops.services.get().predict(page, client === undefined ? { channel: 'test' } : { channel: 'test', client });

before(async () => {
  // Reads take 5 ms, so stage changes land while requests are under way; admission lets the three clients of the hot-swap test in at once.
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dir)}`, 'monitor.gpu.enabled=false', 'cache.enabled=false', 'lifecycle.shadow.concurrency=1', 'server.admission.maxInFlight=4', 'server.admission.maxQueued=4', 'lifecycle.rollback.minSample=30'] });
  const base = versionedPipeline('1', 5);
  visionops = await createVisionops(config, { overrides: { pipelines: [base], pipelineFactory: versionedFactory(5) } });
  for (const version of [stubVersion('1'), stubVersion('2', '1'), stubVersion('3', '1')]) await registerVersion(visionops.stores.models, version);
  app = await visionops.server();
  await stage('1', { stage: 'production' });
  page = await renderDocument({ lines: randomLines(7, 2), width: 320 });
});

after(async () => {
  await visionops.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a 20% canary answers a share of clients within statistical tolerance, and each client always sees one version', async () => {
  await stage('2', { stage: 'canary', weight: 0.2 });
  const clients = 200;
  let canary = 0;
  for (let i = 0; i < clients; i++) {
    const record = await predict(`client-${i}`);
    const model = recogniser(record);
    assert.equal(model.lifecycle, model.version === '2' ? 'canary' : 'production');
    if (model.version === '2') canary++;
  }
  // Binomial(200, 0.2): sd 0.028; four sd either side.
  const share = canary / clients;
  assert.ok(Math.abs(share - 0.2) < 4 * Math.sqrt((0.2 * 0.8) / clients), `canary share ${share}`);

  for (const client of ['client-3', 'client-77', 'someone-else']) {
    const versions = new Set<string>();
    for (let i = 0; i < 8; i++) versions.add(recogniser(await predict(client)).version);
    assert.equal(versions.size, 1, `${client} saw ${[...versions].join(', ')}`);
  }

  // The header reaches the router through the API: the same name, the same version as above.
  const expected = recogniser(await predict('client-77')).version;
  for (let i = 0; i < 3; i++) {
    const response = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png', 'x-visionops-source': 'client-77' }, payload: page });
    assert.equal(response.statusCode, 200, response.body);
    const record = (await app.inject({ method: 'GET', url: `/v1/predictions/${response.json<{ id: string }>().id}` })).json<PredictionRecord>();
    assert.equal(recogniser(record).version, expected);
    assert.equal(record.source.client, 'client-77');
  }
  await stage('2', { stage: 'off' });
});

test('a shadow never changes the answer: production answers, the shadow reads the same image afterwards and its agreement is kept', async () => {
  await stage('3', { stage: 'shadow' });
  const records: PredictionRecord[] = [];
  for (let i = 0; i < 6; i++) {
    records.push(await predict());
    // Let the one shadow slot free up, so every image is read by the shadow too.
    await visionops.lifecycle.routers.get('document')!.settle();
  }
  for (const record of records) {
    assert.equal(textOf(record), READINGS['1'].text);
    assert.equal(recogniser(record).version, '1');
    assert.equal(recogniser(record).lifecycle, 'production');
    assert.equal(record.decision, 'accept');
  }
  const compare = await app.inject({ method: 'GET', url: `/v1/models/${STUB_REC}/compare?candidate=3` });
  assert.equal(compare.statusCode, 200, compare.body);
  const { candidate } = compare.json<{ candidate: { stage: string; runs: number; agreement: { mean: number; runs: number } } }>();
  assert.equal(candidate.stage, 'shadow');
  assert.equal(candidate.agreement.runs, 6);
  // The shadow reads "Inv0ice 2O4l7 pald" where production read "Invoice 20417 paid": 4 characters of 18 differ.
  assert.ok(Math.abs(candidate.agreement.mean - (1 - 4 / 18)) < 1e-9, `agreement ${candidate.agreement.mean}`);

  // Shadows are bounded: a burst finds the one slot taken and drops the rest, counted, and still answers as production does.
  const burst = await Promise.all(Array.from({ length: 8 }, () => predict()));
  assert.ok(burst.every((record) => textOf(record) === READINGS['1'].text));
  await visionops.lifecycle.routers.get('document')!.settle();
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const dropped = /visionops_shadow_dropped_total\{model="stub-rec",version="3"\} (\d+)/.exec(metrics);
  assert.ok(dropped !== null && Number(dropped[1]) > 0, 'some shadow runs were dropped');
  await stage('3', { stage: 'off' });
});

test('stage changes swap versions under traffic with no failed request, and close a replaced pipeline only after its requests finish', async () => {
  let running = true;
  let failures = 0;
  let answered = 0;
  const seen = new Set<string>();
  const worker = async (n: number) => {
    let i = 0;
    while (running) {
      const response = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png', 'x-visionops-source': `w${n}-${i++}` }, payload: page });
      if (response.statusCode === 200) answered++;
      else failures++;
    }
  };
  const workers = [0, 1, 2].map(worker);
  // Between changes, a few more answers: each change lands with requests under way on either side of it.
  const settle = async () => {
    const target = answered + 5;
    while (answered < target) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  await settle();
  await stage('2', { stage: 'canary', weight: 0.5 });
  await settle();
  await stage('2', { stage: 'production' });
  await settle();
  await stage('3', { stage: 'shadow' });
  await settle();
  const back = await app.inject({ method: 'POST', url: `/v1/models/${STUB_REC}/rollback` });
  assert.equal(back.statusCode, 200, back.body);
  assert.deepEqual(back.json(), { production: '1', previous: '2', canaryOff: null });
  await settle();
  await stage('3', { stage: 'off' });
  await settle();
  running = false;
  await Promise.all(workers);
  await visionops.lifecycle.routers.get('document')!.settle();
  assert.equal(failures, 0, 'failed requests');
  assert.ok(answered > 20, `${answered} answered`);
  assert.equal(pipelineLog.closedThenRun, 0, 'no request ran on a closed pipeline');

  const recent = await visionops.stores.predictions.list({ limit: 2000 });
  for (const record of recent) seen.add(`${recogniser(record).version}:${recogniser(record).lifecycle}`);
  for (const expected of ['1:production', '2:canary', '2:production']) assert.ok(seen.has(expected), `records show ${expected}`);
  // After the rollback, production is 1 again and nothing else runs.
  assert.equal(recogniser(await predict('after')).version, '1');
  assert.equal(pipelineLog.open, 1, 'only the production pipeline stays open');
});

test('the stage routes need the admin scope and refuse what cannot be done with stable codes', async () => {
  const off = await app.inject({ method: 'POST', url: `/v1/models/${STUB_REC}/versions/1/stage`, payload: { stage: 'off' } });
  assert.equal(off.statusCode, 409);
  assert.equal(off.json<{ error: { code: string } }>().error.code, 'STAGE_CHANGE_REFUSED');
  const unknown = await app.inject({ method: 'POST', url: `/v1/models/${STUB_REC}/versions/9/stage`, payload: { stage: 'canary' } });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'MODEL_VERSION_NOT_FOUND');
  const weight = await app.inject({ method: 'POST', url: `/v1/models/${STUB_REC}/versions/2/stage`, payload: { stage: 'canary', weight: 1.5 } });
  assert.equal(weight.statusCode, 400);
  const listed = await app.inject({ method: 'GET', url: `/v1/models/${STUB_REC}` });
  assert.equal(listed.statusCode, 200);
  const { versions } = listed.json<{ versions: { version: string; stage: string; parent: string | null }[] }>();
  assert.deepEqual(
    versions.map((v) => [v.version, v.stage, v.parent]),
    [
      ['1', 'production', null],
      ['2', 'off', '1'],
      ['3', 'off', '1'],
    ],
  );
});

test('a canary that sends more pages to review is switched off by the rule once it has the minimum sample, with an alert naming the rule', async () => {
  await stage('3', { stage: 'canary', weight: 0.5 });
  let canary = 0;
  let i = 0;
  const run = async (runs: number) => {
    for (const target = canary + runs; canary < target; ) if (recogniser(await predict(`rule-${i++}`)).version === '3') canary++;
    await visionops.lifecycle.routers.get('document')!.settle();
  };
  await run(10);
  assert.deepEqual(await visionops.lifecycle.evaluate(), [], 'ten runs are under the minimum sample');
  await run(25);
  const actions = await visionops.lifecycle.evaluate();
  assert.equal(actions.length, 1);
  assert.equal(actions[0].action, 'rolled back');
  assert.equal(actions[0].finding?.rule, 'review-rate');
  assert.equal(recogniser(await predict('rule-0')).version, '1', 'the canary is off at once');
  const alerts = (await app.inject({ method: 'GET', url: '/v1/alerts' })).json<{ alerts: { rule: string; state: string; message: string }[] }>();
  const alert = alerts.alerts.find((a) => a.rule === `model-rollback:${STUB_REC}`);
  assert.equal(alert?.state, 'firing');
  assert.match(alert.message, /review-rate/);
  const history = await visionops.stores.models.stageHistory(STUB_REC, 1);
  assert.equal(history[0].by, 'auto-rollback');
});
