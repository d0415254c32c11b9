import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Pipeline } from '../src/pipeline/contract.js';
import type { ModelSession } from '../src/runtime/session.js';
import { Admission } from '../src/server/admission.js';
import { renderDocument } from './fixtures/documents.js';
import { freshSchema } from './fixtures/postgres.js';
import { fixedReadingPipeline } from './helpers/pipelines.js';
import { startMonitoredServer, type MonitoredServer } from './helpers/monitored-server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-overload-'));
let page: Buffer;

before(async () => {
  page = await renderDocument({ lines: ['Invoice 20417 paid', 'Total amount: 1250.40'], width: 900 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A pipeline whose model stage waits until the test lets it go: what runs and waits is then known. */
function heldPipeline() {
  const held: (() => void)[] = [];
  let free = false;
  let runs = 0;
  const pipeline: Pipeline = {
    ...fixedReadingPipeline,
    version: 'held',
    async run(frame, context) {
      runs++;
      if (!free) await new Promise<void>((resolve) => held.push(resolve));
      return fixedReadingPipeline.run(frame, context);
    },
  };
  return {
    pipeline,
    get runs() {
      return runs;
    },
    /** Resolves once `count` model runs have started. */
    async started(count: number) {
      while (runs < count) await new Promise((resolve) => setTimeout(resolve, 10));
    },
    release() {
      free = true;
      for (const resolve of held.splice(0)) resolve();
    },
  };
}

function predict(server: MonitoredServer) {
  return server.app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: page });
}

function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

async function metric(server: MonitoredServer, line: string): Promise<number> {
  return sample((await server.app.inject({ method: 'GET', url: '/metrics' })).body, line);
}

test('admission: slots in order, a bounded queue, OVERLOADED beyond it, a waiter whose client goes leaves the queue, abandon aborts what runs', async () => {
  const admission = new Admission({ maxInFlight: 1, maxQueued: 2 });
  const first = await admission.enter(new AbortController().signal);
  const order: string[] = [];
  const second = admission.enter(new AbortController().signal).then((slot) => (order.push('second'), slot));
  const leaving = new AbortController();
  const gone = admission.enter(leaving.signal);
  assert.equal(admission.queued, 2);
  assert.equal(admission.full, true);
  await assert.rejects(admission.enter(new AbortController().signal), (error: { code: string; details: { retryAfterSeconds: number } }) => {
    assert.equal(error.code, 'OVERLOADED');
    assert.ok(error.details.retryAfterSeconds >= 1);
    return true;
  });
  leaving.abort(new Error('client gone'));
  await assert.rejects(gone, /client gone/);
  assert.equal(admission.queued, 1);
  const third = admission.enter(new AbortController().signal).then((slot) => (order.push('third'), slot));
  first.release();
  first.release();
  const secondSlot = await second;
  assert.equal(admission.inFlight, 1, 'a released slot is handed to the next waiter, never one more');
  secondSlot.release();
  const thirdSlot = await third;
  assert.deepEqual(order, ['second', 'third']);
  admission.abandon();
  assert.equal(thirdSlot.signal.aborted, true);
  assert.equal((thirdSlot.signal.reason as { code: string }).code, 'CANCELLED');
  thirdSlot.release();
  assert.equal(admission.inFlight, 0);
});

test('a full queue answers 503 OVERLOADED with Retry-After while admitted predictions are answered', async () => {
  const held = heldPipeline();
  const server = await startMonitoredServer(join(dir, 'full'), ['server.admission.maxInFlight=1', 'server.admission.maxQueued=1'], undefined, held.pipeline);
  try {
    const running = predict(server);
    await held.started(1);
    const [b, c] = [predict(server), predict(server)];
    // One of the two waits in the queue; the other finds it full.
    const refused = await Promise.race([b, c]);
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.json().error.code, 'OVERLOADED');
    assert.match(String(refused.headers['retry-after']), /^[1-9]\d*$/);
    assert.equal(held.runs, 1);
    held.release();
    const answers = await Promise.all([running, b, c]);
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 200, 503]);
    assert.equal(await metric(server, 'visionops_predictions_shed_total'), 1);
  } finally {
    await server.close();
  }
});

test('a model run over /v2 takes an admission slot like a prediction: the queue fills and sheds, and a full queue refuses /v2 in the protocol\'s shape', async () => {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let runs = 0;
  const heldModel: ModelSession = {
    manifest: { id: 'held-model', version: '1', inputs: [{ name: 'x', shape: [1, 2] }], outputs: [{ name: 'y', shape: [1, 2] }] } as ModelSession['manifest'],
    async run(feeds) {
      runs++;
      await gate;
      return { y: feeds.x };
    },
    close: async () => {},
  };
  const server = await startMonitoredServer(join(dir, 'v2'), ['server.admission.maxInFlight=1', 'server.admission.maxQueued=1'], undefined, { ...fixedReadingPipeline, sessions: [heldModel] });
  const inferHeld = () =>
    server.app.inject({ method: 'POST', url: '/v2/models/held-model/infer', payload: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] }) });
  try {
    const running = inferHeld();
    while (runs < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const predictions = [predict(server), predict(server)];
    // One waits in the queue; the other finds it full.
    const refused = await Promise.race(predictions);
    assert.equal(refused.statusCode, 503, 'the model run holds the only slot and a prediction waiting holds the queue');
    assert.equal(refused.json().error.code, 'OVERLOADED');
    const refusedV2 = await inferHeld();
    assert.equal(refusedV2.statusCode, 503);
    assert.equal(refusedV2.headers['x-visionops-error-code'], 'OVERLOADED');
    assert.equal(typeof refusedV2.json().error, 'string');
    assert.match(String(refusedV2.headers['retry-after']), /^[1-9]\d*$/);
    release();
    const [ran, ...predicted] = await Promise.all([running, ...predictions]);
    assert.equal(ran.statusCode, 200, ran.body);
    assert.deepEqual(ran.json().outputs[0].data, [1, 2]);
    assert.deepEqual(predicted.map((answer) => answer.statusCode).sort(), [200, 503]);
    assert.equal(runs, 1, 'the refused run never reached the model');
    assert.equal(await metric(server, 'visionops_predictions_shed_total'), 2);
  } finally {
    await server.close();
  }
});

test('a prediction whose client closes the connection stops before its next stage, records nothing and frees its slot', async () => {
  const held = heldPipeline();
  const server = await startMonitoredServer(join(dir, 'gone'), ['server.admission.maxInFlight=1', 'server.admission.maxQueued=0'], undefined, held.pipeline);
  try {
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}/v1/predict`;
    const client = new AbortController();
    const abandoned = fetch(url, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(page), signal: client.signal });
    await held.started(1);
    client.abort();
    await assert.rejects(abandoned);
    // The model stage goes on once the server has seen the connection close.
    const connections = () => new Promise<number>((resolve) => server.app.server.getConnections((_error, count) => resolve(count)));
    while ((await connections()) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    held.release();
    while ((await metric(server, 'visionops_predictions_cancelled_total{reason="client_gone"}')) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(await server.stores.predictions.list({ limit: 10 }), [], 'a cancelled prediction is not recorded');
    const next = await fetch(url, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(page) });
    assert.equal(next.status, 200, 'the slot was freed');
    assert.equal((await server.stores.predictions.list({ limit: 10 })).length, 1);
  } finally {
    await server.close();
  }
});

test('a body trickled slowly is dropped with 408 at server.timeouts.requestSeconds; a prediction longer than that, once its body is in, is answered', async () => {
  const held = heldPipeline();
  const server = await startMonitoredServer(join(dir, 'slow'), ['server.timeouts.requestSeconds=1', 'server.timeouts.headersSeconds=1'], undefined, held.pipeline);
  try {
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (server.app.server.address() as AddressInfo).port;
    const socket = connect(port, '127.0.0.1');
    socket.write('POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => socket.write('x'), 200);
    const answer = await new Promise<string>((resolve) => {
      let received = '';
      socket.on('data', (chunk) => (received += chunk));
      socket.on('close', () => resolve(received));
      socket.on('error', () => undefined);
    });
    clearInterval(trickle);
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /REQUEST_TIMEOUT/);

    const url = `http://127.0.0.1:${port}/v1/predict`;
    const long = fetch(url, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(page) });
    await held.started(1);
    // Longer than requestSeconds (and two of Node's once-a-second checks) with the body already in.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    held.release();
    assert.equal((await long).status, 200);
  } finally {
    await server.close();
  }
});

test('with the store gone a prediction is refused 503 STORE_UNAVAILABLE before any model runs', async () => {
  const schema = await freshSchema();
  const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(schema.url).port || 5432) });
  const url = new URL(schema.url);
  url.port = String(await proxy.start());
  const held = heldPipeline();
  held.release();
  const server = await startMonitoredServer(
    join(dir, 'down'),
    ['data.store="postgres"', `data.postgres.url=${JSON.stringify(url.toString())}`, 'data.postgres.connectTimeoutMs=500', 'data.postgres.pingTimeoutMs=300'],
    undefined,
    held.pipeline,
  );
  try {
    assert.equal((await predict(server)).statusCode, 200);
    proxy.cut();
    // The last good ping is trusted for up to a second; the first refusal says the store was asked again.
    while ((await predict(server)).statusCode !== 503) await new Promise((resolve) => setTimeout(resolve, 100));
    const runs = held.runs;
    for (let i = 0; i < 3; i++) {
      const refused = await predict(server);
      assert.equal(refused.statusCode, 503);
      assert.equal(refused.json().error.code, 'STORE_UNAVAILABLE');
    }
    assert.equal(held.runs, runs, 'no model ran for a prediction the store could not keep');
  } finally {
    proxy.restore();
    await server.close();
    await proxy.stop();
    await schema.drop();
  }
});

test('under pressure (here: a heap bound every heap is over) requests are refused 503 OVERLOADED with Retry-After, liveness and metrics still answer', async () => {
  const server = await startMonitoredServer(join(dir, 'pressure'), ['server.pressure.maxHeapUsedBytes=1', 'server.pressure.retryAfterSeconds=3']);
  try {
    // The plugin samples the process once a second.
    while ((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200) await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await predict(server);
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.json().error.code, 'OVERLOADED');
    assert.match(refused.json().error.message, /server\.pressure/);
    assert.equal(refused.headers['retry-after'], '3');
    assert.equal((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await server.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
  } finally {
    await server.close();
  }
});

test('visionops serve on SIGTERM with predictions in flight stops, closes and exits 0 within server.shutdownSeconds', async () => {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--data', join(dir, 'serve'), '--set', 'server.shutdownSeconds=4', '--set', 'monitor.gpu.enabled=false'],
    { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const logged = async (pattern: RegExp, count = 1) => {
    while ((stdout.match(new RegExp(pattern, 'g')) ?? []).length < count) {
      if (child.exitCode !== null) throw new Error(`visionops serve exited early:\n${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    await logged(/Server listening at http:\/\/127\.0\.0\.1:\d+/);
    const port = stdout.match(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/)![1];
    const posts = Array.from({ length: 6 }, () =>
      fetch(`http://127.0.0.1:${port}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(page) }).then(
        (response) => response.status,
        () => 'reset',
      ),
    );
    await logged(/"incoming request"/, 6);
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, stdout);
    const outcomes = await Promise.all(posts);
    for (const outcome of outcomes) assert.ok([200, 503, 'reset'].includes(outcome), `a request in flight ended ${outcome}`);
    assert.ok(outcomes.includes(200), 'admitted predictions were finished');
    assert.match(stdout, /"shut down"/);
  } finally {
    child.kill('SIGKILL');
  }
});
