import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { CircuitBreaker } from '../src/runtime/remote/breaker.js';
import { EndpointPool, RequestRefused } from '../src/runtime/remote/pool.js';
import { characterErrorRate, renderDocument } from './fixtures/documents.js';
import { freePort } from './helpers/ports.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

const POOL_OPTIONS = { model: 'm', timeoutMs: 200, attempts: 3, breaker: { failures: 2, openMs: 60_000 }, healthCheck: { intervalMs: 60_000, timeoutMs: 100 } };

describe('the balancer', () => {
  test('sends each request to the endpoint with the fewest outstanding, taking ties in turn', async () => {
    const pool = new EndpointPool(['http://a', 'http://b', 'http://c'], POOL_OPTIONS);
    const release: (() => void)[] = [];
    const chosen: string[] = [];
    const slow = (url: string) => {
      chosen.push(url);
      return new Promise<string>((resolve) => release.push(() => resolve(url)));
    };
    const first = [pool.call(slow), pool.call(slow), pool.call(slow)];
    assert.deepEqual([...chosen].sort(), ['http://a', 'http://b', 'http://c'], 'three at once spread over three endpoints');
    release[1]();
    await first[1];
    const next = pool.call(slow);
    assert.equal(chosen[3], chosen[1], 'the one that answered is the least busy');
    for (const done of release.slice(2).concat(release[0])) done();
    await Promise.all([...first, next]);
    pool.close();
  });

  test('retries a failed or timed-out attempt on another endpoint, and does not retry a refused request', async () => {
    const pool = new EndpointPool(['http://a', 'http://b'], POOL_OPTIONS);
    const tried: string[] = [];
    // AbortSignal.timeout's timer does not hold the event loop open; a socket would.
    const holdOpen = setTimeout(() => {}, 5000);
    const answer = await pool.call(async (url, signal) => {
      tried.push(url);
      if (tried.length === 1) await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('timed out'))));
      return url;
    });
    assert.equal(tried.length, 2);
    assert.notEqual(tried[0], tried[1]);
    assert.equal(answer, tried[1]);
    clearTimeout(holdOpen);

    let refusals = 0;
    await assert.rejects(
      pool.call(async () => {
        refusals++;
        throw new RequestRefused('bad shape');
      }),
      { code: 'INFERENCE_FAILED' },
    );
    assert.equal(refusals, 1);
    await assert.rejects(pool.call(async () => Promise.reject(new Error('down'))), { code: 'BACKEND_UNAVAILABLE' });
    pool.close();
  });

  test('the circuit opens after consecutive failures, lets one trial through when half-open, and closes on its success', () => {
    let now = 0;
    const breaker = new CircuitBreaker(2, 1000, () => now);
    breaker.failure();
    assert.equal(breaker.state, 'closed');
    breaker.failure();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.allows(), false);
    now = 1000;
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.allows(), true);
    breaker.enter();
    assert.equal(breaker.allows(), false, 'one trial at a time');
    breaker.failure();
    assert.equal(breaker.state, 'open', 'a failed trial opens it again');
    now = 2000;
    breaker.enter();
    breaker.success();
    assert.equal(breaker.state, 'closed');
  });
});


/** A `visionops serve` from the sources on `port`, its own data folder, one inference worker. */
function serve(port: number, dataDir: string): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--data', dataDir, '--set', 'runtime.workers=1', '--set', 'server.logLevel="silent"'],
    { cwd: repo, stdio: 'ignore' },
  );
}

async function waitUntil(what: string, check: () => Promise<boolean>, seconds = 60): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

const ready = (url: string) => async () => (await fetch(`${url}/v2/health/ready`)).ok;

describe('a document pipeline whose recogniser runs on two remote visionops processes', () => {
  const LINES = ['Invoice 20417 paid', 'Total amount: 1250.40'];
  const dir = mkdtempSync(join(tmpdir(), 'visionops-remote-'));
  const children: ChildProcess[] = [];
  let urls: string[];
  let ports: number[];
  let visionops: Visionops;
  let app: FastifyInstance;
  let page: Buffer;

  before(async () => {
    ports = [await freePort(), await freePort()];
    urls = ports.map((port) => `http://127.0.0.1:${port}`);
    children.push(serve(ports[0], join(dir, 'a')), serve(ports[1], join(dir, 'b')));
    await Promise.all(urls.map((url) => waitUntil(`${url} is ready`, ready(url))));
    const remote = { endpoints: urls, timeoutMs: 5000, healthCheck: { intervalMs: 200, timeoutMs: 500 }, breaker: { failures: 3, openMs: 1000 } };
    const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(dir, 'client'))}`, 'runtime.workers=1', 'cache.enabled=false', `runtime.remote.recognition=${JSON.stringify(remote)}`] });
    visionops = await createVisionops(config);
    app = await visionops.server();
    page = await renderDocument({ lines: LINES, width: 700 });
  });

  after(async () => {
    await visionops?.close();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  async function predict(): Promise<string> {
    const response = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: page });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().result.text as string;
  }

  /** `count` predictions, two at a time; `midway` runs once half of them are answered. */
  async function traffic(count: number, midway?: () => void): Promise<string[]> {
    const texts: string[] = [];
    let next = 0;
    const client = async () => {
      while (next < count) {
        next++;
        texts.push(await predict());
        if (texts.length === Math.floor(count / 2)) midway?.();
      }
    };
    await Promise.all([client(), client()]);
    return texts;
  }

  async function metric(name: string, endpoint: string, extra = ''): Promise<number> {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const line = text.split('\n').find((row) => row.startsWith(`${name}{`) && row.includes(`endpoint="${endpoint}"`) && row.includes(extra));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  test('keeps answering when one endpoint is stopped under traffic, takes it out, and brings it back once restarted', async () => {
    const oks = (url: string) => metric('visionops_remote_inference_duration_seconds_count', url, 'outcome="ok"');
    const before = await traffic(6);
    assert.ok(characterErrorRate(LINES.join('\n'), before[0]) < 0.05, before[0]);
    assert.ok((await oks(urls[0])) > 0 && (await oks(urls[1])) > 0, 'both endpoints take traffic');

    const texts = await traffic(16, () => children[1].kill('SIGKILL'));
    assert.equal(texts.length, 16, 'no prediction failed');
    assert.deepEqual(new Set(texts), new Set([before[0]]), 'every page read the same as with both endpoints');
    await waitUntil('the stopped endpoint is out', async () => (await metric('visionops_remote_endpoint_up', urls[1])) === 0, 10);
    assert.equal(await metric('visionops_remote_endpoint_up', urls[0]), 1);

    children.push(serve(ports[1], join(dir, 'b')));
    await waitUntil('the restarted endpoint is ready', ready(urls[1]));
    await waitUntil('the restarted endpoint is back in rotation', async () => (await metric('visionops_remote_endpoint_up', urls[1])) === 1, 10);
    const servedBefore = await oks(urls[1]);
    await traffic(6);
    assert.ok((await oks(urls[1])) > servedBefore, 'the restarted endpoint takes traffic again');
  });

  test('with every endpoint stopped a prediction is refused 503 BACKEND_UNAVAILABLE with Retry-After', async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const response = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: page });
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.json().error.code, 'BACKEND_UNAVAILABLE');
    assert.equal(response.headers['retry-after'], '1');
  });
});
