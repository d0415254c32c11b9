import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config/load.js';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadDocumentPipeline, type DocumentPipeline } from '../src/pipeline/document.js';
import { blank, renderDocument } from './fixtures/documents.js';
import { randomBytes } from './fixtures/images.js';
import { documentOf } from './helpers/results.js';

const LINES = ['Invoice 20417 paid', 'Total amount: 1250.40', 'Customer account 88213'];
const dir = mkdtempSync(join(tmpdir(), 'visionops-stream-'));
let pipeline: DocumentPipeline;
let visionops: Visionops;
let app: FastifyInstance;
let port: number;

before(async () => {
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dir)}`, 'cache.enabled=false'] });
  pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
  // Wired as `visionops serve` wires it: the monitor wraps the service, and must pass the stream's listener on.
  visionops = await createVisionops(config, { overrides: { pipelines: [pipeline] } });
  app = await visionops.server();
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});

after(async () => {
  await visionops.close();
  await pipeline.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** A plain HTTP POST with node:http, the body read whole. */
function post(path: string, body: Buffer, contentType: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Server-Sent Events as the EventSource spec frames them: blocks split by a blank line, `event:` and `data:` fields. */
function parseEvents(text: string): { event: string; data: any }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
      return { event: fields.event, data: JSON.parse(fields.data) };
    });
}

test('?stream=1 answers with the gate report, then the boxes, then each line, then the record', async () => {
  const page = await renderDocument({ lines: LINES, width: 900 });
  const answer = await post('/v1/predict?stream=1', page, 'image/png');
  assert.equal(answer.status, 200);
  assert.match(answer.contentType, /^text\/event-stream/);
  const events = parseEvents(answer.body);
  const names = events.map((e) => e.event);
  assert.deepEqual(names, ['quality', 'boxes', 'line', 'line', 'line', 'record'], answer.body.slice(0, 500));
  assert.notEqual(events[0].data.verdict, 'fail');
  assert.equal(events[1].data.boxes.length, 3);
  const record = events[5].data;
  assert.ok(record.id);
  const streamed = events
    .filter((e) => e.event === 'line')
    .sort((a, b) => a.data.index - b.data.index)
    .map((e) => e.data.text);
  assert.deepEqual(streamed, record.result.lines.map((line: { text: string }) => line.text));
  const saved = await visionops.stores.predictions.get(record.id);
  assert.equal(documentOf(saved?.result).text, record.result.text);
});

test('a page the gate stops streams its report and the rejecting record, and no boxes', async () => {
  const answer = await post('/v1/predict?stream=1', await blank(900, 600), 'image/png');
  const events = parseEvents(answer.body);
  assert.deepEqual(
    events.map((e) => e.event),
    ['quality', 'record'],
  );
  assert.equal(events[0].data.verdict, 'fail');
  assert.equal(events[1].data.decision, 'reject');
});

test('a request refused before anything ran gets its ordinary status and JSON error, not a stream', async () => {
  const answer = await post('/v1/predict?stream=1', randomBytes(4000), 'application/octet-stream');
  assert.equal(answer.status, 415);
  assert.match(answer.contentType, /^application\/json/);
  assert.equal(JSON.parse(answer.body).error.code, 'UNSUPPORTED_FORMAT');
});
