import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import type { PredictionRecord } from '../src/core/records/prediction.js';
import type { Pipeline } from '../src/pipeline/contract.js';
import { hashKey } from '../src/server/auth.js';
import { openSqliteStores } from '../src/store/sqlite/index.js';
import { randomLines, renderDocument } from './fixtures/documents.js';
import { visionops, visionopsKilledAfter } from './helpers/cli.js';
import { fixedReadingPipeline } from './helpers/pipelines.js';
import { closeFixture, reviewFixture, type ReviewFixture } from './helpers/review.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-once-'));
const images = join(dir, 'images');
const PAGES = 30;

before(async () => {
  mkdirSync(images);
  for (let i = 0; i < PAGES; i++) {
    writeFileSync(join(images, `page-${String(i).padStart(2, '0')}.png`), await renderDocument({ lines: randomLines(i + 1, 3), width: 640, fontSize: 28 }));
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function recordsIn(data: string): Promise<PredictionRecord[]> {
  const stores = openSqliteStores(join(data, 'visionops.db'));
  try {
    return await stores.predictions.list({ limit: 10_000 });
  } finally {
    await stores.close();
  }
}

test('visionops run killed with SIGKILL and started again ends with one record and one --out line per file; a torn line is healed', async () => {
  const data = join(dir, 'data');
  const out = join(dir, 'results.jsonl');
  const args = [images, '--data', data, '--out', out, '--concurrency', '2'];
  await visionopsKilledAfter(3, out, 'run', ...args);

  const afterKill = readFileSync(out, 'utf8');
  const complete = afterKill.split('\n').length - 1;
  assert.ok(complete >= 3 && complete < PAGES, `the kill came mid-run: ${complete} lines`);
  const recordedBeforeKill = (await recordsIn(data)).length;
  assert.ok(recordedBeforeKill >= complete, 'every line written was recorded first');
  // A kill in the middle of a write leaves half a line.
  appendFileSync(out, afterKill.split('\n')[0].slice(0, 40));

  const resumed = await visionops('run', ...args);
  assert.equal(resumed.code, 0, resumed.stderr);
  const skipped = Number(resumed.stdout.match(/(\d+) already recorded, skipped/)?.[1]);
  assert.equal(skipped, recordedBeforeKill, resumed.stdout);

  const records = await recordsIn(data);
  const bySha = new Map(records.map((record) => [record.image.sha256, record]));
  assert.equal(records.length, PAGES, 'one record per file');
  assert.equal(bySha.size, PAGES, 'one record per image content');

  const text = readFileSync(out, 'utf8');
  assert.ok(text.endsWith('\n'), 'no torn line is left');
  const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as { file: string; record: PredictionRecord });
  assert.equal(lines.length, PAGES, 'one line per file');
  assert.equal(new Set(lines.map((line) => line.file)).size, PAGES);
  for (const line of lines) assert.equal(bySha.get(line.record.image.sha256)?.id, line.record.id, `${line.file}'s line names its record`);
  assert.equal(text.slice(0, afterKill.length), afterKill, 'the lines written before the kill are kept as they were');

  const again = await visionops('run', ...args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`${PAGES} already recorded, skipped`));
  assert.match(again.stdout, /latency: no predictions run/);
  assert.equal(readFileSync(out, 'utf8'), text, 'a complete run leaves --out as it was');
  assert.equal((await recordsIn(data)).length, PAGES);
});

test('a line --out holds for a file whose answer changed is replaced, not duplicated', async () => {
  const data = join(dir, 'data-replaced');
  const out = join(dir, 'replaced.jsonl');
  const page = join(images, 'page-00.png');
  writeFileSync(out, `${JSON.stringify({ file: page, error: { code: 'INFERENCE_FAILED', message: 'from an earlier run' } })}\n`);
  const { code, stderr } = await visionops('run', page, '--data', data, '--out', out);
  assert.equal(code, 0, stderr);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].record.id, (await recordsIn(data))[0].id);
});

// Idempotency-Key over HTTP: a counting stub pipeline, slow enough that concurrent requests overlap.

const KEYS = { ana: 'vo_ana-predict-key', ben: 'vo_ben-predict-key' };
let fixture: ReviewFixture;
let system: Visionops;
let app: FastifyInstance;
let runs = 0;
let page: Buffer;
let otherPage: Buffer;

const countingPipeline: Pipeline = {
  ...fixedReadingPipeline,
  async run(...args) {
    runs++;
    await sleep(200);
    return fixedReadingPipeline.run(...args);
  },
};

before(async () => {
  fixture = reviewFixture('visionops-once-http-');
  const keys = Object.entries(KEYS).map(([id, key]) => ({ id, sha256: hashKey(key), scopes: ['predict'] }));
  const config = loadConfig({ sets: ['server.logLevel="silent"', 'cache.enabled=false', 'server.admission.maxQueued=8', `auth.keys=${JSON.stringify(keys)}`] });
  system = await createVisionops(config, { overrides: { stores: fixture.stores, pipelines: [countingPipeline], lab: [], observers: [] } });
  app = await system.server();
  page = await renderDocument({ lines: ['Invoice 20417 paid', 'Total amount: 1250.40'], width: 800 });
  otherPage = await renderDocument({ lines: ['Receipt 311 settled'], width: 800 });
});
after(async () => {
  await system.close();
  await closeFixture(fixture);
  rmSync(fixture.dir, { recursive: true, force: true });
});

function predict(who: keyof typeof KEYS, body: Buffer, key?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${KEYS[who]}`, 'content-type': 'image/png' };
  if (key !== undefined) headers['idempotency-key'] = key;
  return app.inject({ method: 'POST', url: '/v1/predict', headers, payload: body });
}

async function recordCount(): Promise<number> {
  return (await fixture.predictions.list({ limit: 10_000 })).length;
}

test('a retry with the same Idempotency-Key returns the recorded prediction, marked as replayed, without running the models', async () => {
  const first = await predict('ana', page, 'order-1');
  assert.equal(first.statusCode, 200, first.body);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  const [recordsBefore, runsBefore] = [await recordCount(), runs];
  const retry = await predict('ana', page, 'order-1');
  assert.equal(retry.statusCode, 200, retry.body);
  assert.equal(retry.headers['idempotent-replayed'], 'true');
  assert.equal(retry.json().id, first.json().id);
  assert.deepEqual(retry.json(), first.json());
  assert.equal(await recordCount(), recordsBefore);
  assert.equal(runs, runsBefore);
});

test('concurrent requests with one key compute once and record once; different keys compute separately', async () => {
  const [recordsBefore, runsBefore] = [await recordCount(), runs];
  const answers = await Promise.all(Array.from({ length: 5 }, () => predict('ana', page, 'order-2')));
  assert.deepEqual(answers.map((answer) => answer.statusCode), [200, 200, 200, 200, 200]);
  assert.equal(new Set(answers.map((answer) => answer.json().id)).size, 1);
  assert.equal(answers.filter((answer) => answer.headers['idempotent-replayed'] === 'true').length, 4);
  assert.equal(runs - runsBefore, 1);
  assert.equal(await recordCount(), recordsBefore + 1);

  const separate = await Promise.all([predict('ana', page, 'order-3'), predict('ana', page, 'order-4'), predict('ana', page)]);
  assert.equal(new Set(separate.map((answer) => answer.json().id)).size, 3);
  assert.equal(runs - runsBefore, 4);
  assert.equal(await recordCount(), recordsBefore + 4);
});

test("another principal's key does not replay its record; a key reused for another image is refused", async () => {
  const ana = await predict('ana', page, 'shared-name');
  const ben = await predict('ben', page, 'shared-name');
  assert.equal(ben.statusCode, 200, ben.body);
  assert.notEqual(ben.json().id, ana.json().id);
  assert.equal(ben.headers['idempotent-replayed'], undefined);

  const reused = await predict('ana', otherPage, 'shared-name');
  assert.equal(reused.statusCode, 422, reused.body);
  assert.equal(reused.json().error.code, 'IDEMPOTENCY_KEY_REUSED');
});

test('a malformed Idempotency-Key is a coded 400 before anything runs', async () => {
  const runsBefore = runs;
  for (const key of ['', 'x'.repeat(256), 'tab\there', 'caf\u00e9']) {
    const answer = await predict('ana', page, key);
    assert.equal(answer.statusCode, 400, `${JSON.stringify(key)}: ${answer.body}`);
    assert.equal(answer.json().error.code, 'INVALID_REQUEST');
  }
  assert.equal(runs, runsBefore);
});

test('a replayed stream is marked before it opens and sends the record alone', async () => {
  const first = await predict('ana', page, 'streamed-1');
  const replay = await app.inject({
    method: 'POST',
    url: '/v1/predict?stream=1',
    headers: { authorization: `Bearer ${KEYS.ana}`, 'content-type': 'image/png', 'idempotency-key': 'streamed-1' },
    payload: page,
  });
  assert.equal(replay.statusCode, 200);
  assert.equal(replay.headers['idempotent-replayed'], 'true');
  const events = [...replay.body.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map(([, event, data]) => ({ event, data: JSON.parse(data) }));
  assert.deepEqual(events.map((e) => e.event), ['record']);
  assert.equal(events[0].data.id, first.json().id);
});
