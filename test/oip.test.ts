import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { hashKey } from '../src/server/auth.js';
import { ingestConfigSchema } from '../src/image/config.js';
import { ingestImage } from '../src/image/ingest.js';
import { seededRandom } from '../src/core/monitor/random.js';
import { loadDocumentPipeline, type DocumentPipeline } from '../src/pipeline/document.js';
import { builtinManifests } from '../src/runtime/builtin.js';
import { createOnnxSession } from '../src/runtime/onnx-node.js';
import type { ModelSession } from '../src/runtime/session.js';
import { renderDocument } from './fixtures/documents.js';
import { deserializeBytes, float32Bytes, float32s, infer, inferRequest, serializeBytes } from './helpers/triton-client.js';

const LINES = ['Invoice 20417 paid', 'Total amount: 1250.40'];
const REC = 'ch_PP-OCRv4_rec';

const dir = mkdtempSync(join(tmpdir(), 'visionops-oip-'));
let pipeline: DocumentPipeline;
let visionops: Visionops;
let app: FastifyInstance;
let base: string;
let recogniser: ModelSession;
let page: Buffer;
/** A recogniser input: one line 64 pixels wide, values in the model's -1..1 range. */
let line: Float32Array;
const LINE_SHAPE = [1, 3, 48, 64];

before(async () => {
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dir)}`, 'runtime.workers=1'] });
  pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
  visionops = await createVisionops(config, { overrides: { pipelines: [pipeline] } });
  app = await visionops.server();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  recogniser = await createOnnxSession((await builtinManifests()).recognition, config.runtime);
  page = await renderDocument({ lines: LINES, width: 700 });
  const random = seededRandom(15);
  line = Float32Array.from({ length: 3 * 48 * 64 }, () => random() * 2 - 1);
});

after(async () => {
  await recogniser.close();
  await visionops.close();
  await pipeline.close();
  rmSync(dir, { recursive: true, force: true });
});

async function getJson(path: string) {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('health, server metadata and model metadata answer as the protocol specifies', async () => {
  assert.equal((await getJson('/v2/health/live')).status, 200);
  assert.equal((await getJson('/v2/health/ready')).status, 200);
  const server = await getJson('/v2');
  assert.equal(server.body.name, 'visionops');
  assert.ok((server.body.extensions as string[]).includes('binary_tensor_data'));

  const document = await getJson('/v2/models/document');
  assert.deepEqual(document.body, {
    name: 'document',
    versions: [pipeline.version],
    platform: 'visionops_pipeline',
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }],
    outputs: [{ name: 'result', datatype: 'BYTES', shape: [1] }],
  });

  const manifest = (await builtinManifests()).recognition;
  const rec = await getJson(`/v2/models/${REC}/versions/${manifest.version}`);
  assert.equal(rec.status, 200);
  assert.equal(rec.body.platform, 'onnxruntime_onnx');
  assert.deepEqual(rec.body.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, -1] }]);
  assert.deepEqual(rec.body.outputs, [{ name: manifest.outputs[0].name, datatype: 'FP32', shape: [-1, -1, manifest.labels?.length] }]);
  // Every model the loaded pipeline runs is served.
  const served = await Promise.all(pipeline.models.map((model) => getJson(`/v2/models/${model.id}/ready`)));
  assert.deepEqual(served.map((answer) => answer.status), pipeline.models.map(() => 200));
});

test('the recogniser answers the same over JSON and binary tensors as run in-process', async () => {
  const local = (await recogniser.run({ x: { data: line, dims: LINE_SHAPE } }))[recogniser.manifest.outputs[0].name];
  const outputName = recogniser.manifest.outputs[0].name;

  const asJson = inferRequest([{ name: 'x', shape: LINE_SHAPE, datatype: 'FP32', data: Array.from(line) }], { id: 'json-1', outputs: [{ name: outputName, binary: false }] });
  const jsonAnswer = await infer(base, REC, asJson.body, asJson.headers);
  assert.equal(jsonAnswer.status, 200, JSON.stringify(jsonAnswer.json).slice(0, 300));
  assert.equal(jsonAnswer.json.id, 'json-1');
  assert.equal(jsonAnswer.json.model_name, REC);
  const [jsonOutput] = jsonAnswer.outputs;
  assert.deepEqual(jsonOutput.shape, local.dims);
  assert.equal(jsonOutput.datatype, 'FP32');
  const fromJson = Float32Array.from(jsonOutput.data as number[]);
  assert.equal(maxDifference(fromJson, local.data) < 1e-5, true);

  // Triton's client default: binary inputs, and every output as binary data when none is named.
  const asBinary = inferRequest([{ name: 'x', shape: LINE_SHAPE, datatype: 'FP32', data: float32Bytes(line) }], { id: 'binary-1' });
  assert.ok(asBinary.headers['Inference-Header-Content-Length']);
  const binaryAnswer = await infer(base, REC, asBinary.body, asBinary.headers);
  assert.equal(binaryAnswer.status, 200, JSON.stringify(binaryAnswer.json));
  assert.equal(binaryAnswer.json.id, 'binary-1');
  assert.equal(binaryAnswer.headers.get('content-type'), 'application/octet-stream');
  const [binaryOutput] = binaryAnswer.outputs;
  assert.equal(binaryOutput.parameters?.binary_data_size, local.data.length * 4);
  assert.equal(binaryOutput.data, undefined);
  assert.deepEqual(float32s(binaryOutput.binary as Uint8Array), fromJson, 'binary and JSON carry the same values');
});

test('a pipeline reads an image sent as BYTES, binary or base64 JSON, and records it as /v1/predict does', async () => {
  const expected = (await pipeline.read(await sharpFrame(page), { exifOrientation: 1 })).result.text;

  const binary = inferRequest([{ name: 'image', shape: [1], datatype: 'BYTES', data: serializeBytes([page]) }], { outputs: [{ name: 'result', binary: true }] });
  const answer = await infer(base, 'document', binary.body, binary.headers);
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  const [result] = answer.outputs;
  assert.deepEqual([result.name, result.datatype, result.shape], ['result', 'BYTES', [1]]);
  const [recordJson] = deserializeBytes(result.binary as Uint8Array);
  const record = JSON.parse(recordJson.toString('utf8'));
  assert.equal(record.result.text, expected);
  assert.ok(['accept', 'review'].includes(record.decision));
  const saved = await getJson(`/v1/predictions/${record.id}`);
  assert.equal(saved.status, 200);
  assert.equal((saved.body.source as { channel: string }).channel, 'oip');

  const json = inferRequest([{ name: 'image', shape: [1], datatype: 'BYTES', data: [page.toString('base64')], parameters: { content_type: 'base64' } }], {
    outputs: [{ name: 'result', binary: false }],
  });
  const jsonAnswer = await infer(base, 'document', json.body, json.headers);
  assert.equal(jsonAnswer.status, 200, JSON.stringify(jsonAnswer.json));
  assert.equal(JSON.parse((jsonAnswer.outputs[0].data as string[])[0]).result.text, expected);
});

test('protocol errors: {"error": "..."} with 404 for an unknown model, 400 for a bad datatype, shape, count or a truncated body', async () => {
  const expectError = async (promise: ReturnType<typeof infer>, status: number, mentions: RegExp) => {
    const answer = await promise;
    assert.equal(answer.status, status, JSON.stringify(answer.json));
    assert.deepEqual(Object.keys(answer.json), ['error']);
    assert.match(answer.json.error as string, mentions);
  };
  const good = (data: unknown[] | Uint8Array, datatype = 'FP32', shape = LINE_SHAPE) => inferRequest([{ name: 'x', shape, datatype, data }]);

  let request = good(Array.from(line));
  await expectError(infer(base, 'no-such-model', request.body, request.headers), 404, /no-such-model/);
  await expectError(infer(base, REC, request.body, request.headers, '0.0.0-nope'), 404, /version/);
  assert.equal((await getJson('/v2/models/no-such-model')).status, 404);
  const noRoute = await getJson('/v2/no/such/route');
  assert.equal(noRoute.status, 404);
  assert.equal(typeof noRoute.body.error, 'string');

  request = good(Array.from(line, (value) => Math.round(value)), 'INT64');
  await expectError(infer(base, REC, request.body, request.headers), 400, /FP32/);
  request = good(Array.from(line), 'FP99');
  await expectError(infer(base, REC, request.body, request.headers), 400, /datatype/);
  request = good(Array.from(line.subarray(0, 3 * 47 * 64)), 'FP32', [1, 3, 47, 64]);
  await expectError(infer(base, REC, request.body, request.headers), 400, /shape/);
  request = good(Array.from(line.subarray(1)));
  await expectError(infer(base, REC, request.body, request.headers), 400, /values/);

  request = good(float32Bytes(line));
  const cut = request.body.subarray(0, request.body.length - 100);
  await expectError(infer(base, REC, cut, request.headers), 400, /truncated/);
  await expectError(infer(base, REC, request.body, { 'Inference-Header-Content-Length': String(request.body.length + 1) }), 400, /Inference-Header-Content-Length/);

  const short = Buffer.from([5, 0, 0, 0, 1, 2]);
  request = inferRequest([{ name: 'image', shape: [1], datatype: 'BYTES', data: short }]);
  await expectError(infer(base, 'document', request.body, request.headers), 400, /declares 5 bytes/);
  request = inferRequest([{ name: 'image', shape: [1], datatype: 'BYTES', data: serializeBytes([Buffer.from('not an image at all')]) }]);
  const notImage = await infer(base, 'document', request.body, request.headers);
  assert.equal(notImage.status, 415, JSON.stringify(notImage.json));
  assert.equal(notImage.headers.get('x-visionops-error-code'), 'UNSUPPORTED_FORMAT');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /visionops_errors_total\{code="UNSUPPORTED_FORMAT"\} [1-9]/, 'protocol errors are counted by code like any other');
});

test('with API keys the inference routes need the predict scope and health stays public', async () => {
  const key = 'oip-test-key-0123456789';
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dir)}`, `auth.keys=[{"id":"reviewer","sha256":"${hashKey(key)}","scopes":["review"]}]`] });
  const guarded = await createVisionops(config, { overrides: { pipelines: [pipeline], stores: visionops.stores } });
  try {
    const server = await guarded.server();
    assert.equal((await server.inject({ method: 'GET', url: '/v2/health/live' })).statusCode, 200);
    const request = inferRequest([{ name: 'x', shape: LINE_SHAPE, datatype: 'FP32', data: float32Bytes(line) }]);
    const anonymous = await server.inject({ method: 'POST', url: `/v2/models/${REC}/infer`, payload: request.body, headers: request.headers });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(typeof anonymous.json().error, 'string');
    const reviewer = await server.inject({ method: 'GET', url: `/v2/models/${REC}`, headers: { authorization: `Bearer ${key}` } });
    assert.equal(reviewer.statusCode, 403);
  } finally {
    await guarded.close();
  }
});

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

async function sharpFrame(image: Buffer) {
  return (await ingestImage(image, ingestConfigSchema.parse({}))).frame;
}
