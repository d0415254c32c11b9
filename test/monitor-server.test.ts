import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { MonitorMetrics } from '../src/monitor/metrics.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { openSqliteStores } from '../src/store/sqlite/index.js';
import { blank } from './fixtures/documents.js';
import { randomBytes } from './fixtures/images.js';
import { streamPage } from './fixtures/streams.js';
import { visionops } from './helpers/cli.js';
import { startMonitoredServer, type MonitoredServer } from './helpers/monitored-server.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-monitor-'));

after(() => rmSync(dir, { recursive: true, force: true }));

/** The value of one sample of the Prometheus text, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{(.*)\}/)?.[1] ?? '';
    const found = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

function predict(server: MonitoredServer, body: Buffer) {
  return server.app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/jpeg' }, payload: body });
}

test('GET /metrics after traffic: stages per model, latency, decisions, quality, errors by code, memory and cost', async () => {
  const config = loadConfig({});
  const pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
  const server = await startMonitoredServer(join(dir, 'metrics'), ['monitor.events=[{"name":"pages_scanned","help":"Pages the scanners reported."}]'], undefined, pipeline);
  const label = (role: string) => {
    const model = pipeline.models.find((m) => m.role === role)!;
    return `${model.id}@${model.version}`;
  };
  try {
    let lines = 0;
    for (let i = 0; i < 3; i++) {
      const response = await predict(server, await streamPage(9, i));
      assert.equal(response.statusCode, 200);
      assert.equal(response.json().decision, 'accept');
      lines += response.json().result.lines.length;
    }
    assert.equal((await predict(server, await blank(900, 600))).json().decision, 'reject');
    assert.equal((await predict(server, randomBytes(2000, 4))).statusCode, 415);
    assert.equal((await server.app.inject({ method: 'GET', url: '/v1/nothing-here' })).statusCode, 404);

    const response = await server.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    const text = response.body;
    assert.equal(sample(text, 'visionops_images_total', { pipeline: 'document' }), 4);
    assert.equal(sample(text, 'visionops_decisions_total', { pipeline: 'document', decision: 'accept' }), 3);
    assert.equal(sample(text, 'visionops_decisions_total', { pipeline: 'document', decision: 'reject' }), 1);
    assert.equal(sample(text, 'visionops_stage_duration_seconds_count', { pipeline: 'document', stage: 'detection', model: label('detection') }), 3);
    assert.ok(sample(text, 'visionops_stage_duration_seconds_sum', { pipeline: 'document', stage: 'recognition', model: label('recognition') })! > 0);
    assert.equal(sample(text, 'visionops_stage_duration_seconds_count', { pipeline: 'document', stage: 'gate', model: 'none' }), 4);
    assert.ok(sample(text, 'visionops_stage_duration_seconds_sum', { stage: 'gate' })! > 0);
    assert.equal(sample(text, 'visionops_request_duration_seconds_count', { method: 'POST', route: '/v1/predict', status: '200' }), 4);
    assert.equal(sample(text, 'visionops_requests_total', { method: 'POST', route: '/v1/predict', status: '415' }), 1);
    assert.equal(sample(text, 'visionops_errors_total', { code: 'UNSUPPORTED_FORMAT' }), 1);
    assert.equal(sample(text, 'visionops_errors_total', { code: 'NOT_FOUND' }), 1);
    for (const check of ['resolution', 'information', 'blur', 'exposure']) assert.equal(sample(text, 'visionops_quality_score_count', { check }), 4, check);
    assert.equal(sample(text, 'visionops_quality_verdicts_total', { check: 'information', verdict: 'fail' }), 1);
    assert.equal(sample(text, 'visionops_confidence_count', { level: 'line' }), lines);
    assert.equal(sample(text, 'visionops_in_flight', { pipeline: 'document' }), 0);
    assert.equal(sample(text, 'visionops_queue_depth', { model: label('recognition') }), 0);
    assert.ok(sample(text, 'visionops_process_resident_memory_bytes')! > 10e6);
    assert.ok(sample(text, 'visionops_inference_cpu_seconds_total')! > 0);
    assert.ok(sample(text, 'visionops_cost_per_inference', { currency: 'USD' })! > 0);
    assert.equal(sample(text, 'visionops_pages_scanned_total'), 0);
    const hasSmi = (() => {
      try {
        execFileSync('nvidia-smi', ['-L']);
        return true;
      } catch {
        return false;
      }
    })();
    if (!hasSmi) assert.doesNotMatch(text, /visionops_gpu_/, 'no GPU: the GPU metrics are absent, not zero');
  } finally {
    await server.close();
    await pipeline.close();
  }
});

test('POST /v1/events adds to a configured counter; an unknown name is a 400 with a stable code', async () => {
  const server = await startMonitoredServer(join(dir, 'events'), ['monitor.events=[{"name":"pages_scanned"}]']);
  try {
    const post = (payload: unknown) => server.app.inject({ method: 'POST', url: '/v1/events', payload: payload as object });
    assert.equal((await post({ name: 'pages_scanned', value: 3 })).statusCode, 202);
    assert.equal((await post({ name: 'pages_scanned' })).statusCode, 202);
    const unknown = await post({ name: 'pages_lost' });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error.code, 'UNKNOWN_EVENT');
    assert.match(unknown.json().error.message, /pages_scanned/);
    assert.equal((await post({ name: 'pages_scanned', value: -2 })).json().error.code, 'INVALID_REQUEST');
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(text, 'visionops_pages_scanned_total'), 4);
    assert.equal(sample(text, 'visionops_errors_total', { code: 'UNKNOWN_EVENT' }), 1);
    assert.equal(sample(text, 'visionops_images_total', { pipeline: 'document' }), undefined, 'each server has its own registry');
  } finally {
    await server.close();
  }
});

interface Received {
  rule: string;
  state: string;
  message: string;
}

let hook: Server;
let hookUrl: string;
const received: Received[] = [];

before(async () => {
  hook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(JSON.parse(body) as Received);
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
});

after(() => new Promise<void>((resolve) => hook.close(() => resolve())));

test('drift through the server: darkened pages fire an alert naming the exposure, sent to a webhook and recorded; normal pages resolve it', async () => {
  let seconds = 0;
  const now = () => new Date(Date.UTC(2026, 10, 25, 9, 0, seconds));
  const data = join(dir, 'drift');
  const server = await startMonitoredServer(
    data,
    [
      'monitor.reference.images=30',
      'monitor.drift.windowImages=30',
      'monitor.drift.evaluateEvery=5',
      'monitor.drift.minImages=20',
      `monitor.alerts.webhooks=${JSON.stringify([hookUrl])}`,
    ],
    now,
  );
  const send = async (seed: number, index: number, shift: 'normal' | 'dark') => {
    seconds++;
    assert.equal((await predict(server, await streamPage(seed, index, shift))).statusCode, 200);
    await server.monitor.settle();
  };
  const driftAlert = async () => ((await server.app.inject({ method: 'GET', url: '/v1/alerts' })).json().alerts as Received[]).find((a) => a.rule === 'drift');
  try {
    for (let i = 0; i < 30; i++) await send(21, i, 'normal');
    for (let i = 0; i < 20; i++) await send(22, i, 'normal');
    assert.equal(await driftAlert(), undefined, 'no drift alert on normal pages');

    let dark = 0;
    while ((await driftAlert())?.state !== 'firing') {
      assert.ok(dark < 30, 'the drift alert fired within 30 darkened pages');
      await send(23, dark++, 'dark');
    }
    const firing = (await driftAlert())!;
    assert.match(firing.message, /exposure\.(meanLuma|paperLevel)|quality\.exposure/);
    assert.match(firing.message, /PSI \d/);
    assert.deepEqual(received.map((r) => [r.rule, r.state]), [['drift', 'firing']]);

    let normal = 0;
    while ((await driftAlert())?.state !== 'resolved') {
      assert.ok(normal < 60, 'the drift alert resolved within 60 normal pages');
      await send(24, normal++, 'normal');
    }
    assert.deepEqual(received.map((r) => [r.rule, r.state]).filter(([rule]) => rule === 'drift'), [['drift', 'firing'], ['drift', 'resolved']]);
    const summary = (await server.app.inject({ method: 'GET', url: '/v1/monitor/summary' })).json();
    assert.equal(summary.reference.state, 'ready');
    assert.ok(summary.drift.points.some((p: { drifted: boolean }) => p.drifted));
    assert.ok(summary.outliers.clusters.some((c: { thumbnails: string[] }) => c.thumbnails[0]?.startsWith('data:image/jpeg;base64,')));
  } finally {
    await server.close();
  }
  const stores = openSqliteStores(join(data, 'visionops.db'));
  const store = stores.monitor;
  try {
    assert.deepEqual(
      (await store.transitions(10)).filter((t) => t.rule === 'drift').map((t) => t.state),
      ['resolved', 'firing'],
      'both transitions are recorded in SQLite',
    );
    assert.ok((await store.loadReference())?.images === 30, 'the reference built from production is kept');
  } finally {
    await stores.close();
  }
});

test('visionops profile writes a reference from a folder, and a server started with it judges drift from the first image', async () => {
  const folder = join(dir, 'known-good');
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < 30; i++) writeFileSync(join(folder, `page-${String(i).padStart(2, '0')}.jpg`), await streamPage(41, i));
  const out = join(dir, 'ref.json');
  const outcome = await visionops('profile', folder, '--out', out, '--gate-only');
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /Profile of 30 images written/);

  const server = await startMonitoredServer(join(dir, 'with-reference'), [`monitor.reference.file=${JSON.stringify(out)}`, 'monitor.drift.windowImages=20', 'monitor.drift.evaluateEvery=5', 'monitor.drift.minImages=20']);
  try {
    const summary = (await server.app.inject({ method: 'GET', url: '/v1/monitor/summary' })).json();
    assert.equal(summary.reference.state, 'ready');
    assert.equal(summary.reference.images, 30);
    assert.match(summary.reference.source, /known-good/);
    for (let i = 0; i < 20; i++) await predict(server, await streamPage(42, i, 'dark'));
    assert.equal(((await server.app.inject({ method: 'GET', url: '/v1/alerts' })).json().alerts as Received[]).find((a) => a.rule === 'drift')?.state, 'firing');
  } finally {
    await server.close();
  }
  writeFileSync(out, '{"version": 1}');
  await assert.rejects(startMonitoredServer(join(dir, 'bad-reference'), [`monitor.reference.file=${JSON.stringify(out)}`]), /INVALID_CONFIG|not a visionops profile/);
});

test('a reference with fewer images than monitor.drift.minImages: visionops profile warns, and the summary names the features drift cannot judge', async () => {
  const folder = join(dir, 'few-known-good');
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < 12; i++) writeFileSync(join(folder, `page-${String(i).padStart(2, '0')}.jpg`), await streamPage(43, i));
  const out = join(dir, 'few-ref.json');
  const outcome = await visionops('profile', folder, '--out', out, '--gate-only', '--set', 'monitor.drift.minImages=20');
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /Profile of 12 images written/);
  assert.match(outcome.stderr, /warning: \d+ scalar features have fewer reference values than monitor\.drift\.minImages \(20\) and will not be judged for drift: .*quality\.blur \(12\)/);

  const enough = await visionops('profile', folder, '--out', join(dir, 'few-ref-enough.json'), '--gate-only', '--set', 'monitor.drift.minImages=10');
  assert.equal(enough.code, 0, enough.stderr);
  assert.doesNotMatch(enough.stderr, /will not be judged/);

  const server = await startMonitoredServer(join(dir, 'with-few-reference'), [`monitor.reference.file=${JSON.stringify(out)}`, 'monitor.drift.minImages=20']);
  try {
    const summary = (await server.app.inject({ method: 'GET', url: '/v1/monitor/summary' })).json();
    assert.equal(summary.drift.minImages, 20);
    const named = (summary.drift.notJudged as { feature: string; referenceValues: number }[]).map((u) => u.feature);
    assert.ok(named.includes('quality.blur') && named.includes('quality.exposure'), named.join(', '));
    assert.match(summary.drift.notJudgedMessage, /will not be judged for drift/);
  } finally {
    await server.close();
  }
});

test('the Grafana dashboard queries only metrics the server exports', async () => {
  const dashboard = JSON.parse(readFileSync(new URL('../deploy/grafana/visionops.json', import.meta.url), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  const exported = new Set(new MonitorMetrics(loadConfig().monitor).registry.getMetricsAsArray().map((m) => m.name));
  const queried = dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/visionops_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
  assert.ok(queried.length > 20);
  // GPU metrics exist only where nvidia-smi does.
  assert.deepEqual([...new Set(queried.filter((name) => !exported.has(name) && !name.startsWith('visionops_gpu_')))], []);
});
