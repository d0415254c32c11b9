import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { configHash, loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadDocumentPipeline, type DocumentPipeline } from '../src/pipeline/document.js';
import type { PredictionRecord } from '../src/core/records/prediction.js';
import { clientErrorHandler } from '../src/server/http-errors.js';
import type { PredictionStore } from '../src/store/store.js';
import { asJpeg, blank, characterErrorRate, renderDocument } from './fixtures/documents.js';
import { pngDeclaring, randomBytes, truncated } from './fixtures/images.js';

const LINES = ['Invoice 20417 paid', 'Total amount: 1250.40', 'Customer account 88213'];

const dir = mkdtempSync(join(tmpdir(), 'visionops-server-'));
let config: Config;
let pipeline: DocumentPipeline;
let visionops: Visionops;
let app: FastifyInstance;
let page: Buffer;
let blankPage: Buffer;

before(async () => {
  config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dir)}`] });
  pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
  visionops = await createVisionops(config, { overrides: { pipelines: [pipeline] } });
  app = await visionops.server();
  page = await renderDocument({ lines: LINES, width: 900 });
  blankPage = await blank(900, 600);
});

after(async () => {
  await visionops.close();
  await pipeline.close();
  rmSync(dir, { recursive: true, force: true });
});

function postRaw(body: Buffer, headers: Record<string, string> = {}, target = app) {
  return target.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png', ...headers }, payload: body });
}

async function multipartBody(fields: Record<string, string | { bytes: Buffer; filename: string; type: string }>) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([new Uint8Array(value.bytes)], { type: value.type }), value.filename);
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { payload: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type') as string };
}

function expectError(response: { statusCode: number; json(): unknown }, status: number, code: string): string {
  assert.equal(response.statusCode, status, JSON.stringify(response.json()));
  const body = response.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 20, 'the message says what to do');
  return body.error.message;
}

test('a rendered page is read, decided, recorded with its full lineage, and GET returns the same record', async () => {
  const response = await postRaw(page, { 'x-visionops-metadata': JSON.stringify({ device: 'scanner-3', operator: 'ana' }) });
  assert.equal(response.statusCode, 200, response.body);
  const answer = response.json();
  assert.ok(['accept', 'review'].includes(answer.decision));
  assert.equal(answer.quality.verdict === 'fail', false);
  assert.ok(characterErrorRate(LINES.join('\n'), answer.result.text) < 0.03, answer.result.text);
  assert.equal(answer.result.lines.length, LINES.length);
  assert.deepEqual(answer.result.orientation, { rotation: 0, source: 'none', exif: { tag: 1, rotation: 0, corrected: false } });

  const { lineage } = answer;
  assert.deepEqual(lineage.pipeline, { id: pipeline.name, version: pipeline.version });
  // Every model ran as the production version of its slot (docs/lifecycle.md).
  assert.deepEqual(lineage.models, pipeline.models.map((model) => ({ ...model, lifecycle: 'production' })));
  assert.ok(lineage.models.length > 0);
  for (const model of lineage.models) {
    assert.match(model.sha256, /^[0-9a-f]{64}$/);
    assert.match(model.preprocessHash, /^[0-9a-f]{64}$/);
  }
  assert.equal(lineage.image.sha256, createHash('sha256').update(page).digest('hex'));
  assert.match(lineage.image.phash, /^[0-9a-f]{16}$/);
  assert.equal(lineage.configHash, configHash(config));
  for (const stage of ['decode', 'gate', 'detection', 'recognition', 'decide', 'store', 'total']) {
    assert.equal(typeof answer.timings[stage], 'number', stage);
  }

  const fetched = await app.inject({ method: 'GET', url: `/v1/predictions/${answer.id}` });
  assert.equal(fetched.statusCode, 200);
  const record = fetched.json() as PredictionRecord;
  assert.deepEqual(record, await visionops.stores.predictions.get(answer.id));
  for (const key of ['id', 'decision', 'reasons', 'lineage', 'timings'] as const) assert.deepEqual(record[key], answer[key], key);
  assert.deepEqual(record.source, {
    channel: 'http',
    contentType: 'image/png',
    filename: null,
    metadata: { device: 'scanner-3', operator: 'ana' },
    exif: {},
  });
  assert.deepEqual(record.image, { sha256: lineage.image.sha256, phash: lineage.image.phash, format: 'png', width: 900, height: record.image.height, bytes: page.length });
  assert.equal(record.blob === null, record.decision !== 'review', 'the image is kept exactly when a person must review it');
});

test('a blank page is a normal answer: rejected with guidance, no model run, no text', async () => {
  const response = await postRaw(blankPage);
  assert.equal(response.statusCode, 200, response.body);
  const answer = response.json();
  assert.equal(answer.decision, 'reject');
  assert.equal(answer.quality.verdict, 'fail');
  assert.ok(answer.reasons.some((r: { code: string }) => r.code === 'QUALITY_FAILED:information'));
  assert.ok(answer.quality.guidance.length > 0);
  assert.equal(answer.reasons[0].message, answer.quality.checks.find((c: { verdict: string }) => c.verdict === 'fail').guidance);
  assert.equal(answer.result, null);
  assert.deepEqual(answer.lineage.models, []);
  assert.equal(answer.timings.detection, undefined);
  assert.equal((await visionops.stores.predictions.get(answer.id))?.decision, 'reject');
});

test('multipart: the file field "image" with a "metadata" field, merged over the metadata header', async () => {
  const { payload, contentType } = await multipartBody({
    metadata: JSON.stringify({ operator: 'ben', batch: 7 }),
    image: { bytes: blankPage, filename: 'blank.png', type: 'image/png' },
  });
  const response = await app.inject({
    method: 'POST',
    url: '/v1/predict',
    headers: { 'content-type': contentType, 'x-visionops-metadata': JSON.stringify({ device: 'scanner-3', operator: 'ana' }) },
    payload,
  });
  assert.equal(response.statusCode, 200, response.body);
  const record = await visionops.stores.predictions.get(response.json().id);
  assert.deepEqual(record?.source.metadata, { device: 'scanner-3', operator: 'ben', batch: 7 });
  assert.equal(record?.source.filename, 'blank.png');
});

test('refused images answer the code ingest gave, with its status', async () => {
  const jpeg = await asJpeg(page);
  expectError(await postRaw(randomBytes(4096), { 'content-type': 'application/octet-stream' }), 415, 'UNSUPPORTED_FORMAT');
  expectError(await postRaw(truncated(jpeg, 0.5), { 'content-type': 'image/jpeg' }), 422, 'CORRUPT_IMAGE');
  expectError(await postRaw(pngDeclaring(30_000, 30_000)), 413, 'IMAGE_TOO_LARGE');
  expectError(await postRaw(Buffer.alloc(0)), 400, 'EMPTY_BODY');
});

test('a body over the limit is IMAGE_TOO_LARGE naming the limit, whether ingest or the server sees it first', async () => {
  const small = loadConfig({ sets: ['server.logLevel="silent"', 'ingest.maxBytes=100000'] });
  const smallSystem = await createVisionops(small, { overrides: { pipelines: [pipeline], stores: visionops.stores } });
  const smallApp = await smallSystem.server();
  try {
    // Just over the limit: the body is read and ingest refuses it.
    expectError(await postRaw(Buffer.alloc(100_001), {}, smallApp), 413, 'IMAGE_TOO_LARGE');
    // Far over: the server stops reading; its error is translated to the same code and names the limit.
    const message = expectError(await postRaw(Buffer.alloc(100_000 + 2 * 1024 * 1024), {}, smallApp), 413, 'IMAGE_TOO_LARGE');
    assert.match(message, /100,000/);
    const { payload, contentType } = await multipartBody({ image: { bytes: Buffer.alloc(150_000), filename: 'big.png', type: 'image/png' } });
    assert.match(expectError(await smallApp.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': contentType }, payload }), 413, 'IMAGE_TOO_LARGE'), /100,000/);
  } finally {
    await smallSystem.close();
  }
});

test('bad requests answer 400, 404 or 415 with a code', async () => {
  expectError(await postRaw(page, { 'x-visionops-metadata': '{device: scanner}' }), 400, 'INVALID_METADATA');
  expectError(await postRaw(page, { 'x-visionops-metadata': '["a"]' }), 400, 'INVALID_METADATA');
  const badField = await multipartBody({ metadata: 'not json', image: { bytes: page, filename: 'p.png', type: 'image/png' } });
  expectError(await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': badField.contentType }, payload: badField.payload }), 400, 'INVALID_METADATA');
  const noImage = await multipartBody({ metadata: '{}' });
  expectError(await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': noImage.contentType }, payload: noImage.payload }), 400, 'INVALID_REQUEST');
  expectError(await postRaw(Buffer.from('{"image": "..."}'), { 'content-type': 'application/json' }), 415, 'UNSUPPORTED_FORMAT');
  // Multipart framing the client got wrong: no boundary, another boundary, a body cut short.
  const whole = await multipartBody({ image: { bytes: page, filename: 'p.png', type: 'image/png' } });
  expectError(await postRaw(whole.payload, { 'content-type': 'multipart/form-data' }), 400, 'INVALID_REQUEST');
  expectError(await postRaw(whole.payload, { 'content-type': 'multipart/form-data; boundary=not-the-one' }), 400, 'INVALID_REQUEST');
  expectError(await postRaw(whole.payload.subarray(0, 3000), { 'content-type': whole.contentType }), 400, 'INVALID_REQUEST');
  expectError(await app.inject({ method: 'GET', url: '/v1/predictions/0190b6a0-0000-7000-8000-000000000000' }), 404, 'PREDICTION_NOT_FOUND');
  expectError(await app.inject({ method: 'GET', url: '/v1/predictions/42' }), 400, 'INVALID_REQUEST');
  expectError(await app.inject({ method: 'GET', url: '/v3/everything' }), 404, 'NOT_FOUND');
});

test('healthz answers while the process lives; readyz only when the models are loaded and the store answers', async () => {
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  assert.deepEqual((await app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ready' });

  let loaded = false;
  const { stores } = visionops;
  const unavailable = { ...stores.predictions, ping: () => Promise.reject(new Error('gone')) } as PredictionStore;
  const loading = await visionops.server({ ready: () => loaded });
  const storelessSystem = await createVisionops(config, { overrides: { pipelines: [pipeline], stores: { ...stores, predictions: unavailable } } });
  const storeless = await storelessSystem.server();
  try {
    assert.equal((await loading.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    expectError(await loading.inject({ method: 'GET', url: '/readyz' }), 503, 'NOT_READY');
    loaded = true;
    assert.equal((await loading.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    expectError(await storeless.inject({ method: 'GET', url: '/readyz' }), 503, 'NOT_READY');
  } finally {
    await loading.close();
    await storelessSystem.close();
  }
});

test('a store that went away answers 503 STORE_UNAVAILABLE', async () => {
  const closed = await createVisionops({ ...config, data: { ...config.data, dir: join(dir, 'closed') } }, { overrides: { pipelines: [pipeline] } });
  await closed.stores.predictions.close();
  try {
    expectError(await postRaw(blankPage, {}, await closed.server()), 503, 'STORE_UNAVAILABLE');
  } finally {
    await closed.close();
  }
});

test('over a real socket: a raw body and a multipart upload', async () => {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const raw = await fetch(`${address}/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', 'x-visionops-metadata': '{"device":"socket"}' },
    body: new Uint8Array(blankPage),
  });
  assert.equal(raw.status, 200);
  const rawAnswer = (await raw.json()) as { id: string; decision: string };
  assert.equal(rawAnswer.decision, 'reject');

  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(page)], { type: 'image/png' }), 'page.png');
  const multipart = await fetch(`${address}/v1/predict`, { method: 'POST', body: form });
  assert.equal(multipart.status, 200);
  const answer = (await multipart.json()) as { id: string; decision: string; result: { text: string } };
  assert.ok(['accept', 'review'].includes(answer.decision));
  assert.ok(answer.result.text.length > 0);

  const fetched = await fetch(`${address}/v1/predictions/${rawAnswer.id}`);
  assert.equal(fetched.status, 200);
  assert.deepEqual(((await fetched.json()) as PredictionRecord).source.metadata, { device: 'socket' });
  const missing = await fetch(`${address}/nowhere`);
  assert.equal(missing.status, 404);
  assert.deepEqual(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
});

test('over a real socket: metadata of the documented 64 KiB is kept, more is INVALID_METADATA, headers over the server limit answer 431 HEADERS_TOO_LARGE', async () => {
  // A second system over the same data folder: the shared one already listens for the test above.
  const socketSystem = await createVisionops(config, { overrides: { pipelines: [pipeline] } });
  const socketApp = await socketSystem.server();
  try {
    const address = await socketApp.listen({ host: '127.0.0.1', port: 0 });
    const metadataOf = (bytes: number) => {
      const skeleton = JSON.stringify({ note: '' });
      return JSON.stringify({ note: 'n'.repeat(bytes - skeleton.length) });
    };
    const post = (headers: Record<string, string>) => fetch(`${address}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/png', ...headers }, body: new Uint8Array(blankPage) });

    const largest = metadataOf(64 * 1024);
    assert.equal(largest.length, 65_536);
    const kept = await post({ 'x-visionops-metadata': largest });
    assert.equal(kept.status, 200, await kept.clone().text());
    const { id } = (await kept.json()) as { id: string };
    const record = (await (await fetch(`${address}/v1/predictions/${id}`)).json()) as PredictionRecord;
    assert.equal(JSON.stringify(record.source.metadata), largest);

    const over = await post({ 'x-visionops-metadata': metadataOf(64 * 1024 + 1) });
    assert.equal(over.status, 400);
    assert.equal(((await over.json()) as { error: { code: string } }).error.code, 'INVALID_METADATA');

    const tooMany = await post({ 'x-visionops-metadata': largest, 'x-padding': 'p'.repeat(20 * 1024) });
    assert.equal(tooMany.status, 431);
    const refusal = (await tooMany.json()) as { error: { code: string; message: string } };
    assert.equal(refusal.error.code, 'HEADERS_TOO_LARGE');
    assert.match(refusal.error.message, /81,920 bytes/);

    const port = new URL(address).port;
    const garbage = await rawExchange(Number(port), 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    assert.match(garbage, /"code":"INVALID_REQUEST"/);
  } finally {
    await socketSystem.close();
  }
});

test('a request that does not arrive in time answers 408 REQUEST_TIMEOUT, in the same error form', () => {
  let written = '';
  const socket = { destroyed: false, writable: true, end: (text: string) => (written = text), destroy: () => assert.fail('an open socket is answered') };
  const log = { info: () => {} };
  clientErrorHandler().call({ log } as unknown as FastifyInstance, Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket as unknown as Socket);
  assert.match(written, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  const body = JSON.parse(written.slice(written.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
  assert.equal(body.error.code, 'REQUEST_TIMEOUT');
});

/** Writes bytes that need not be HTTP and reads everything the server answers until it closes. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}
