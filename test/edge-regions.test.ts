import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { REGIONS_PATH } from '../src/core/edge/regions.js';
import type { Frame } from '../src/core/frame.js';
import type { Quad } from '../src/core/postprocess/geometry.js';
import { loadNodeTextDetector, regionsPayload, type NodeTextDetector } from '../src/edge/regions.js';
import { modelVersionOf } from '../src/review/queue.js';
import { deviceModels } from '../src/runtime/builtin.js';
import { characterErrorRate, randomLines, renderDocument, rotated } from './fixtures/documents.js';
import { storedRecords } from './helpers/stored-records.js';

// The real document pipeline reads the crops; the crops are cut in Node by the core functions the capture page runs.
const work = mkdtempSync(join(tmpdir(), 'visionops-regions-'));
const MAX_CROPS = 12;
const MAX_CROP_PIXELS = 200_000;
let visionops: Visionops;
let app: FastifyInstance;
let detector: NodeTextDetector;

before(async () => {
  const config = loadConfig({
    sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(work, 'data'))}`, `edge.regions.maxCrops=${MAX_CROPS}`, `edge.regions.maxCropPixels=${MAX_CROP_PIXELS}`],
  });
  visionops = await createVisionops(config, { overrides: { lab: [] } });
  app = await visionops.server();
  detector = await loadNodeTextDetector(config.runtime);
});
after(async () => {
  await detector?.close();
  await visionops?.close();
  rmSync(work, { recursive: true, force: true });
});

async function frameOf(png: Buffer): Promise<Frame> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

const recordCount = () => storedRecords(join(work, 'data')).length;

const ROUTE = { policy: 'hybrid', client: 'agent', device: ['gate', 'duplicates', 'detection'], sent: 'crops', deviceVerdict: 'pass' };

/** A multipart body of the given parts, as a client's FormData encodes it. */
async function multipart(parts: [string, string | { bytes: Uint8Array; type: string }][]): Promise<{ payload: Buffer; contentType: string }> {
  const form = new FormData();
  parts.forEach(([name, value], i) => (typeof value === 'string' ? form.append(name, value) : form.append(name, new Blob([value.bytes as Uint8Array<ArrayBuffer>], { type: value.type }), `part-${i}`)));
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { payload: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type')! };
}

async function smallCrop(width = 40, height = 12): Promise<{ bytes: Uint8Array; type: string }> {
  return { bytes: await sharp({ create: { width, height, channels: 3, background: '#eee' } }).jpeg().toBuffer(), type: 'image/jpeg' };
}

const QUAD: Quad = [[10, 10], [50, 10], [50, 22], [10, 22]];

test('a page sent as its text regions is read from the crops: the lines in the frame\'s coordinates, recorded with lineage.edge, once per Idempotency-Key', async () => {
  const lines = randomLines(61, 6);
  const page = await renderDocument({ lines, fontSize: 26, width: 900 });
  const frame = await frameOf(page);
  const quads = await detector.find(frame);
  assert.ok(quads.length >= lines.length, `the device finds the lines (${quads.length})`);
  const upload = await regionsPayload(frame, quads, 'regions-test-1');
  const headers = { 'content-type': upload.contentType, 'idempotency-key': 'regions-test-1', 'x-visionops-edge': JSON.stringify(ROUTE) };
  const answer = await app.inject({ method: 'POST', url: REGIONS_PATH, headers, payload: Buffer.from(upload.body) });
  assert.equal(answer.statusCode, 200, answer.body);
  const body = answer.json();
  assert.equal(body.decision, 'accept', JSON.stringify(body.reasons));
  const error = characterErrorRate(lines.join('\n'), body.result.text);
  assert.ok(error < 0.05, `the crops read as the page (CER ${error.toFixed(3)}): ${body.result.text}`);
  assert.equal(body.result.lines.length, lines.length);
  for (const line of body.result.lines as { box: Quad }[]) {
    assert.ok(line.box.every(([x, y]) => x >= 0 && y >= 0 && x <= frame.width && y <= frame.height), `a box in the frame: ${JSON.stringify(line.box)}`);
  }
  // Each line's box is where that line is printed on the page (renderDocument: margin 39 px, 47 px a line).
  body.result.lines.forEach((line: { box: Quad }, i: number) => {
    const middle = (line.box[0][1] + line.box[2][1]) / 2;
    assert.ok(Math.abs(middle - (39 + 47 * i + 26 * 0.65)) < 15, `line ${i} sits at y ${middle.toFixed(0)}`);
  });
  assert.deepEqual(body.lineage.edge, ROUTE);
  assert.equal(body.timings.detection, 0, 'the cloud ran no detection');
  assert.ok(body.timings.recognition > 0);

  const record = (await app.inject({ method: 'GET', url: `/v1/predictions/${body.id}` })).json();
  assert.deepEqual({ width: record.image.width, height: record.image.height }, { width: frame.width, height: frame.height }, 'the record\'s image is the page rebuilt at the frame\'s size');
  assert.deepEqual(record.source.regions, { crops: quads.length, bytes: record.source.regions.bytes, frame: { width: frame.width, height: frame.height } });
  assert.ok(record.source.regions.bytes < upload.body.length);

  const before = recordCount();
  const retry = await app.inject({ method: 'POST', url: REGIONS_PATH, headers, payload: Buffer.from(upload.body) });
  assert.equal(retry.statusCode, 200, retry.body);
  assert.equal(retry.headers['idempotent-replayed'], 'true');
  assert.equal(retry.json().id, body.id);
  assert.equal(recordCount(), before, 'a retry makes no second record');

  const streamed = await app.inject({ method: 'POST', url: `${REGIONS_PATH}?stream=1`, headers: { 'content-type': upload.contentType }, payload: Buffer.from(upload.body) });
  const events = [...streamed.body.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);
  assert.deepEqual([events[0], events[1], events.at(-1)], ['quality', 'boxes', 'record']);
  assert.equal(events.filter((event) => event === 'line').length, quads.length);
});

test('the crops of an upside-down page are turned over by the cloud\'s 0/180 vote and read upright', async () => {
  const lines = randomLines(62, 6);
  const frame = await frameOf(await rotated(await renderDocument({ lines, fontSize: 26, width: 900 }), 180));
  const quads = await detector.find(frame);
  const upload = await regionsPayload(frame, quads, 'regions-test-2');
  const answer = await app.inject({ method: 'POST', url: REGIONS_PATH, headers: { 'content-type': upload.contentType }, payload: Buffer.from(upload.body) });
  assert.equal(answer.statusCode, 200, answer.body);
  const { result } = answer.json();
  assert.deepEqual(result.orientation.rotation, 180);
  const error = characterErrorRate(lines.join('\n'), result.text);
  assert.ok(error < 0.05, `read upright (CER ${error.toFixed(3)}): ${result.text}`);
});

test('hostile regions uploads are refused with their codes before anything is recorded', async () => {
  const before = recordCount();
  const manifest = (regions: unknown[], frame = { width: 100, height: 40 }) => JSON.stringify({ frame, regions });
  const crop = await smallCrop();
  const cases: { name: string; parts: [string, string | { bytes: Uint8Array; type: string }][]; status: number; code: string; problem?: string }[] = [
    { name: 'too many regions', parts: [['regions', manifest(Array.from({ length: MAX_CROPS + 1 }, () => ({ quad: QUAD })))]], status: 413, code: 'TOO_MANY_REGIONS', problem: 'TOO_MANY_CROPS' },
    { name: 'more crops than the limit', parts: [['regions', manifest([{ quad: QUAD }])], ...Array.from({ length: MAX_CROPS + 1 }, () => ['crop', crop] as [string, typeof crop])], status: 413, code: 'TOO_MANY_REGIONS' },
    { name: 'a crop too large', parts: [['regions', manifest([{ quad: QUAD }])], ['crop', await smallCrop(600, 400)]], status: 413, code: 'IMAGE_TOO_LARGE', problem: 'CROP_TOO_LARGE' },
    { name: 'a region larger than a crop may be', parts: [['regions', manifest([{ quad: [[0, 0], [1000, 0], [1000, 400], [0, 400]] }], { width: 1000, height: 400 })], ['crop', crop]], status: 413, code: 'IMAGE_TOO_LARGE', problem: 'CROP_TOO_LARGE' },
    { name: 'regions covering the frame many times', parts: [['regions', manifest(Array.from({ length: 3 }, () => ({ quad: [[0, 0], [100, 0], [100, 40], [0, 40]] })))], ...Array.from({ length: 3 }, () => ['crop', crop] as [string, typeof crop])], status: 400, code: 'INVALID_REGIONS', problem: 'REGIONS_OVERLAP' },
    { name: 'a box outside the frame', parts: [['regions', manifest([{ quad: [[10, 10], [150, 10], [150, 22], [10, 22]] }])], ['crop', crop]], status: 400, code: 'INVALID_REGIONS', problem: 'BOX_OUTSIDE_FRAME' },
    { name: 'malformed JSON', parts: [['regions', '{"frame": {"width": 100,'], ['crop', crop]], status: 400, code: 'INVALID_REGIONS', problem: 'MALFORMED_REGIONS' },
    { name: 'a quad of three corners', parts: [['regions', manifest([{ quad: QUAD.slice(0, 3) }])], ['crop', crop]], status: 400, code: 'INVALID_REGIONS', problem: 'MALFORMED_REGIONS' },
    { name: 'no manifest', parts: [['crop', crop]], status: 400, code: 'INVALID_REGIONS', problem: 'MALFORMED_REGIONS' },
    { name: 'a crop missing', parts: [['regions', manifest([{ quad: QUAD }, { quad: QUAD }])], ['crop', crop]], status: 400, code: 'INVALID_REGIONS', problem: 'CROP_COUNT_MISMATCH' },
    { name: 'a crop that is no image', parts: [['regions', manifest([{ quad: QUAD }])], ['crop', { bytes: new TextEncoder().encode('not an image at all'), type: 'image/jpeg' }]], status: 415, code: 'UNSUPPORTED_FORMAT' },
    { name: 'a frame over ingest.maxPixels', parts: [['regions', manifest([{ quad: QUAD }], { width: 100_000, height: 100_000 })], ['crop', crop]], status: 413, code: 'IMAGE_TOO_LARGE', problem: 'FRAME_TOO_LARGE' },
  ];
  for (const hostile of cases) {
    const { payload, contentType } = await multipart(hostile.parts);
    const answer = await app.inject({ method: 'POST', url: REGIONS_PATH, headers: { 'content-type': contentType }, payload });
    assert.equal(answer.statusCode, hostile.status, `${hostile.name}: ${answer.body}`);
    const { error } = answer.json();
    assert.equal(error.code, hostile.code, hostile.name);
    if (hostile.problem !== undefined) assert.equal(error.problem, hostile.problem, hostile.name);
  }

  const page = await app.inject({ method: 'POST', url: REGIONS_PATH, headers: { 'content-type': 'image/png' }, payload: await renderDocument({ lines: ['a page'] }) });
  assert.equal(page.statusCode, 415, page.body);
  const { payload, contentType } = await multipart([['regions', manifest([{ quad: QUAD }])], ['crop', crop]]);
  const wrongRoute = await app.inject({ method: 'POST', url: REGIONS_PATH, headers: { 'content-type': contentType, 'x-visionops-edge': JSON.stringify({ ...ROUTE, sent: 'downscaled' }) }, payload });
  assert.equal(wrongRoute.statusCode, 400, wrongRoute.body);
  assert.equal(wrongRoute.json().error.code, 'INVALID_REQUEST');
  assert.equal(recordCount(), before, 'nothing recorded');
});

test('under the device policy the record keeps the device\'s reading of its crops, recognising nothing again; a reading the route does not state is refused', async () => {
  const lines = randomLines(63, 5);
  const frame = await frameOf(await renderDocument({ lines, fontSize: 26, width: 900 }));
  const quads = await detector.find(frame);
  // Not the printed text: a record holding it was written from the device's reading, not read again here.
  const readings = quads.map((_, i) => ({ text: `DEVICE LINE ${i}`, confidence: 0.97 }));
  const models = (await deviceModels()).filter((model) => model.role !== 'orientation');
  const route = { policy: 'device', client: 'capture-page', device: ['gate', 'duplicates', 'detection', 'recognition'], sent: 'crops', deviceVerdict: 'pass', modelBackend: 'wasm', models };
  const upload = await regionsPayload(frame, quads, 'regions-device-1', readings);
  const post = (edge: unknown, body = upload) => app.inject({ method: 'POST', url: REGIONS_PATH, headers: { 'content-type': body.contentType, 'x-visionops-edge': JSON.stringify(edge) }, payload: Buffer.from(body.body) });

  const before = recordCount();
  const refusals: [string, unknown, typeof upload, string][] = [
    ['a reading under hybrid', { ...route, policy: 'hybrid' }, upload, 'READING_NOT_STATED'],
    ['a reading without recognition among the device stages', { ...route, device: ['gate', 'duplicates', 'detection'] }, upload, 'READING_NOT_STATED'],
    ['recognition stated without a reading', route, await regionsPayload(frame, quads, 'regions-device-2'), 'READING_NOT_STATED'],
    ['a reading for some regions only', route, await regionsPayload(frame, quads, 'regions-device-3', readings.map((reading, i) => (i === 0 ? undefined : reading)) as typeof readings), 'PARTIAL_READING'],
    ['a recogniser the server does not serve', { ...route, models: models.map((model) => (model.role === 'recognition' ? { ...model, version: '0.0.0-forged' } : model)) }, upload, 'UNKNOWN_DEVICE_MODEL'],
    ['no recogniser named', { ...route, models: models.filter((model) => model.role !== 'recognition') }, upload, 'UNKNOWN_DEVICE_MODEL'],
    ['a classifier the server does not serve', { ...route, models: [...models, { role: 'orientation', id: 'forged', version: '1' }] }, upload, 'UNKNOWN_DEVICE_MODEL'],
  ];
  for (const [name, edge, body, problem] of refusals) {
    const answer = await post(edge, body);
    assert.equal(answer.statusCode, 400, `${name}: ${answer.body}`);
    assert.deepEqual({ code: answer.json().error.code, problem: answer.json().error.problem }, { code: 'INVALID_REGIONS', problem }, name);
  }
  const page = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png', 'x-visionops-edge': JSON.stringify({ ...route, sent: 'downscaled' }) }, payload: await renderDocument({ lines }) });
  assert.equal(page.statusCode, 400, page.body);
  assert.deepEqual({ code: page.json().error.code, problem: page.json().error.problem }, { code: 'INVALID_REQUEST', problem: 'READING_WITHOUT_CROPS' }, 'a page is read by the cloud, not recorded as read on the device');
  assert.equal(recordCount(), before, 'nothing recorded from a refused reading');

  const answer = await post(route);
  assert.equal(answer.statusCode, 200, answer.body);
  const body = answer.json();
  assert.equal(body.result.text, readings.map((reading) => reading.text).join('\n'), 'the device\'s reading is the result');
  assert.equal(body.decision, 'accept', JSON.stringify(body.reasons));
  assert.equal(body.quality.verdict, 'pass', 'the gate judged the page rebuilt from the crops');
  assert.deepEqual(body.lineage.edge, route);
  assert.deepEqual(body.lineage.models, [], 'the server ran no model on this capture');
  assert.equal(modelVersionOf(body), models.map((model) => `device:${model.id}@${model.version}`).join(' + '), 'reviews of it are counted under the device\'s models');
  assert.ok(!(body.timings.recognition > 0) && !(body.timings.classification > 0), `nothing recognised or classified here: ${JSON.stringify(body.timings)}`);
  assert.equal(recordCount(), before + 1);
});
