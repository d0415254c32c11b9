import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { VisionopsError } from '../src/core/errors.js';
import type { Pipeline } from '../src/pipeline/contract.js';
import { JobQueue, type JobStatus } from '../src/queue/jobs.js';
import { startWorker, type QueueWorker } from '../src/queue/worker.js';
import { renderDocument } from './fixtures/documents.js';
import { visionops } from './helpers/cli.js';
import { dropRedisPrefix, freshPrefix, sleep, TEST_REDIS } from './helpers/cluster.js';
import { fixedReadingPipeline } from './helpers/pipelines.js';

const silent = { info: () => {}, warn: () => {} };

interface System {
  visionops: Visionops;
  url: string;
  dir: string;
  worker(): Promise<QueueWorker>;
  close(): Promise<void>;
}

/** An API over SQLite under a folder of its own and a queue under a Redis prefix of its own; workers started on demand, in this process. */
async function system(pipeline: Pipeline, sets: string[] = []): Promise<System> {
  const dir = await mkdtemp(join(tmpdir(), 'visionops-jobs-'));
  const prefix = freshPrefix();
  const config = loadConfig({
    sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(dir, 'data'))}`, `queue.redis.url="${TEST_REDIS}"`, `queue.redis.prefix="${prefix}"`, 'queue.backoffMs=20', ...sets],
  });
  const visionops = await createVisionops(config, { overrides: { pipelines: [pipeline], lab: [], observers: [] } });
  const app = await visionops.server();
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const workers: QueueWorker[] = [];
  return {
    visionops,
    url,
    dir,
    async worker() {
      const worker = await startWorker({ config: config.queue, services: visionops.services, blobs: visionops.stores.blobs, maxBytes: config.ingest.maxBytes, log: silent });
      workers.push(worker);
      return worker;
    },
    async close() {
      for (const worker of workers) await worker.close();
      await visionops.close();
      await dropRedisPrefix(prefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function page(i: number): Promise<Buffer> {
  return renderDocument({ lines: [`Crate ${500 + i} received`], width: 340, fontSize: 24 });
}

async function submitUploads(url: string, images: Buffer[], fields: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  images.forEach((image, i) => form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), `page-${i}.png`));
  return fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
}

async function finished(url: string, id: string): Promise<JobStatus> {
  for (let tries = 0; tries < 300; tries++) {
    const status = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as JobStatus;
    if (status.state === 'completed' || status.state === 'failed') return status;
    await sleep(100);
  }
  throw new Error(`job ${id} did not finish`);
}

/** A pipeline whose models fail the first `failures` times they run. */
function failing(failures: number): Pipeline & { calls: () => number } {
  let calls = 0;
  return {
    ...fixedReadingPipeline,
    async run(frame, context) {
      calls++;
      if (calls <= failures) throw new VisionopsError('INFERENCE_FAILED', `model failure ${calls}`);
      return fixedReadingPipeline.run(frame, context);
    },
    calls: () => calls,
  };
}

test('an image whose models fail is retried with backoff, and one that succeeds on a retry is recorded once', { timeout: 60_000 }, async () => {
  const pipeline = failing(2);
  const jobs = await system(pipeline);
  try {
    await jobs.worker();
    const submitted = await submitUploads(jobs.url, [await page(1)]);
    assert.equal(submitted.status, 202);
    const status = await finished(jobs.url, ((await submitted.json()) as { id: string }).id);
    assert.equal(status.state, 'completed');
    assert.equal(pipeline.calls(), 3, 'two failures, then the third try');
    assert.equal(status.done, 1);
    assert.equal(status.records.length, 1);
    assert.equal((await jobs.visionops.stores.predictions.list({ limit: 10 })).length, 1);
  } finally {
    await jobs.close();
  }
});

test('an image that fails every try is dead-lettered with its error after queue.attempts, and the job ends failed; a corrupt image is not retried', { timeout: 60_000 }, async () => {
  const pipeline = failing(Infinity);
  const jobs = await system(pipeline, ['queue.attempts=3']);
  try {
    await jobs.worker();
    const corrupt = Buffer.from('this is not an image at all');
    const submitted = await submitUploads(jobs.url, [await page(1), corrupt]);
    const status = await finished(jobs.url, ((await submitted.json()) as { id: string }).id);
    assert.equal(status.state, 'failed');
    assert.equal(status.total, 2);
    assert.equal(status.done, 0);
    assert.equal(status.failed, 2);
    assert.equal(pipeline.calls(), 3, 'the readable page was tried queue.attempts times');
    assert.deepEqual(status.errors.map((e) => [e.name, e.code]).sort(), [
      ['page-0.png', 'INFERENCE_FAILED'],
      ['page-1.png', 'UNSUPPORTED_FORMAT'],
    ]);
    const queue = new JobQueue(jobs.visionops.config.queue);
    const figures = await queue.figures();
    await queue.close();
    assert.equal(figures.deadLettered, 2, 'both items sit in the failed (dead-letter) state');
  } finally {
    await jobs.close();
  }
});

test('without queue.redis.url, job routes answer 501 QUEUE_NOT_CONFIGURED', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'visionops-jobs-'));
  const visionops = await createVisionops(loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dir)}`] }), {
    overrides: { pipelines: [fixedReadingPipeline], lab: [], observers: [] },
  });
  try {
    const app = await visionops.server();
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const response of [await submitUploads(url, [await page(1)]), await fetch(`${url}/v1/jobs/0b9e6f1c-8a4e-4c53-9a39-2f0c2f1e9a11`)]) {
      assert.equal(response.status, 501);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'QUEUE_NOT_CONFIGURED');
      assert.match(body.error.message, /queue\.redis\.url/);
    }
  } finally {
    await visionops.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('visionops worker without queue.redis.url refuses to start, exit 2 with QUEUE_NOT_CONFIGURED, before loading a model', { timeout: 60_000 }, async () => {
  const worker = await visionops('worker', '--set', 'queue.redis.url=null');
  assert.equal(worker.code, 2);
  assert.match(worker.stderr, /QUEUE_NOT_CONFIGURED: .*queue\.redis\.url/);
});

test('past queue.maxWaiting images waiting, a job is refused with 503 QUEUE_FULL and Retry-After; within it, accepted', { timeout: 60_000 }, async () => {
  const jobs = await system(fixedReadingPipeline, ['queue.maxWaiting=5', 'queue.retryAfterSeconds=7']);
  try {
    const pages = await Promise.all([0, 1, 2, 3, 4, 5].map(page));
    assert.equal((await submitUploads(jobs.url, pages.slice(0, 4))).status, 202);
    const refused = await submitUploads(jobs.url, pages.slice(4, 6));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '7');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'QUEUE_FULL');
    assert.equal((await submitUploads(jobs.url, pages.slice(4, 5))).status, 202, 'one more fits the bound exactly');
    const full = await submitUploads(jobs.url, pages.slice(5, 6));
    assert.equal(full.status, 503, 'a full queue refuses before reading the body');
    assert.equal(full.headers.get('retry-after'), '7');

    await jobs.worker();
    const queue = new JobQueue(jobs.visionops.config.queue);
    for (let tries = 0; (await queue.figures()).waiting > 0; tries++) {
      assert.ok(tries < 100, 'the worker drains the queue');
      await sleep(100);
    }
    await queue.close();
    assert.equal((await submitUploads(jobs.url, pages.slice(5, 6))).status, 202, 'accepted again once the workers caught up');
  } finally {
    await jobs.close();
  }
});

test('a job of paths under queue.pathsRoot streams its progress as SSE and calls its webhook once when finished; paths out of the root are refused', { timeout: 60_000 }, async () => {
  const calls: { body: unknown }[] = [];
  const hook = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      calls.push({ body: JSON.parse(body) });
      response.end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/done`;
  const shared = await mkdtemp(join(tmpdir(), 'visionops-shared-'));
  const jobs = await system(fixedReadingPipeline, [`queue.pathsRoot=${JSON.stringify(shared)}`]);
  try {
    await mkdir(join(shared, 'scans'));
    for (const i of [0, 1, 2]) await writeFile(join(shared, 'scans', `${i}.png`), await page(i));
    // The same file twice is one image of the job.
    const post = (body: unknown) => fetch(`${jobs.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const escaping = await post({ paths: ['../etc/passwd'] });
    assert.equal(escaping.status, 400);
    assert.equal(((await escaping.json()) as { error: { code: string } }).error.code, 'INVALID_REQUEST');
    const submitted = await post({ paths: ['scans/0.png', 'scans/1.png', 'scans/2.png', 'scans/0.png'], webhook: hookUrl });
    assert.equal(submitted.status, 202);
    const { id } = (await submitted.json()) as { id: string };
    assert.equal(submitted.headers.get('location'), `/v1/jobs/${id}`);

    const events = fetch(`${jobs.url}/v1/jobs/${id}/events`).then((response) => response.text());
    await sleep(300);
    await jobs.worker();
    const stream = await events;
    const progress = [...stream.matchAll(/event: progress\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]) as { state: string; done: number; total: number });
    assert.equal(progress[0].state, 'waiting');
    assert.equal(progress.at(-1)?.state, 'completed');
    assert.equal(progress.at(-1)?.done, 3);
    const last = /event: finished\ndata: (.*)\n/.exec(stream);
    assert.ok(last !== null, stream);
    const status = JSON.parse(last[1]) as JobStatus;
    assert.equal(status.total, 3);
    assert.equal(status.records.length, 3);

    for (let tries = 0; calls.length === 0 && tries < 50; tries++) await sleep(100);
    await sleep(200);
    assert.equal(calls.length, 1, 'the webhook is called once');
    assert.deepEqual((calls[0].body as { event: string; job: JobStatus }).job.records, status.records);
  } finally {
    await jobs.close();
    hook.close();
    await rm(shared, { recursive: true, force: true });
  }
});

test('on close a worker returns the image it still holds after queue.worker.shutdownSeconds to the queue, and another worker records it once', { timeout: 60_000 }, async () => {
  let slow = true;
  const pipeline: Pipeline = {
    ...fixedReadingPipeline,
    async run(frame, context) {
      if (slow) await sleep(1500);
      return fixedReadingPipeline.run(frame, context);
    },
  };
  const jobs = await system(pipeline, ['queue.worker.shutdownSeconds=0.3']);
  try {
    const worker = await jobs.worker();
    const { id } = (await (await submitUploads(jobs.url, [await page(3)])).json()) as { id: string };
    const queue = new JobQueue(jobs.visionops.config.queue);
    for (let tries = 0; (await queue.figures()).active === 0; tries++) {
      assert.ok(tries < 100, 'the worker takes the image');
      await sleep(50);
    }
    await worker.close();
    const figures = await queue.figures();
    assert.equal(figures.active, 0);
    assert.equal(figures.waiting + figures.delayed, 1, 'the image is back in the queue');
    assert.equal((await jobs.visionops.stores.predictions.list({ limit: 10 })).length, 0, 'nothing recorded by the worker that stopped');
    await queue.close();

    slow = false;
    await jobs.worker();
    const status = await finished(jobs.url, id);
    assert.equal(status.state, 'completed');
    assert.equal((await jobs.visionops.stores.predictions.list({ limit: 10 })).length, 1);
  } finally {
    await jobs.close();
  }
});

test('visionops run --queue submits a folder as one job to the API, follows it to the end and exits 0 with its figures', { timeout: 120_000 }, async () => {
  const jobs = await system(fixedReadingPipeline);
  const folder = await mkdtemp(join(tmpdir(), 'visionops-folder-'));
  try {
    for (const i of [0, 1, 2, 3]) await writeFile(join(folder, `${i}.png`), await page(i));
    await jobs.worker();
    const run = await visionops('run', folder, '--queue', '--server', jobs.url);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { job: string; state: string; total: number; done: number; failed: number };
    assert.deepEqual({ state: summary.state, total: summary.total, done: summary.done, failed: summary.failed }, { state: 'completed', total: 4, done: 4, failed: 0 });
    const status = (await (await fetch(`${jobs.url}/v1/jobs/${summary.job}`)).json()) as JobStatus;
    assert.equal(status.records.length, 4);
  } finally {
    await jobs.close();
    await rm(folder, { recursive: true, force: true });
  }
});

test('an API process watches the queue: depth by state, oldest waiting age and rate in /metrics, and the job alert rules fire on them', { timeout: 60_000 }, async () => {
  const jobs = await system(failing(Infinity), ['queue.watchSeconds=0.2', 'queue.attempts=1', 'monitor.alerts.jobQueueAge.thresholdSeconds=0.5']);
  try {
    assert.equal((await submitUploads(jobs.url, [await page(1), await page(2)])).status, 202);
    await sleep(1200);
    const metrics = await (await fetch(`${jobs.url}/metrics`)).text();
    assert.match(metrics, /visionops_job_queue_items\{state="waiting"\} 2/);
    const oldest = Number(/^visionops_job_queue_oldest_waiting_seconds (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(oldest >= 0.5 && oldest < 60, `oldest waiting ${oldest} s`);
    const alerts = async () => ((await (await fetch(`${jobs.url}/v1/alerts`)).json()) as { alerts: { rule: string; state: string }[] }).alerts;
    assert.deepEqual((await alerts()).map((a) => [a.rule, a.state]), [['jobQueueAge', 'firing']]);

    await jobs.worker();
    for (let tries = 0; ; tries++) {
      const now = await alerts();
      if (now.some((a) => a.rule === 'jobDeadLetters' && a.state === 'firing') && now.some((a) => a.rule === 'jobQueueAge' && a.state === 'resolved')) break;
      assert.ok(tries < 100, JSON.stringify(now));
      await sleep(100);
    }
    let after = '';
    for (let tries = 0; !/visionops_job_queue_items\{state="dead_lettered"\} 2/.test(after); tries++) {
      assert.ok(tries < 50, after);
      await sleep(100);
      after = await (await fetch(`${jobs.url}/metrics`)).text();
    }
    assert.match(after, /visionops_job_queue_items\{state="waiting"\} 0/);
  } finally {
    await jobs.close();
  }
});

test('a job over queue.maxImagesPerJob files, or with an unknown pipeline, is refused with a coded 400 and nothing queued', { timeout: 60_000 }, async () => {
  const jobs = await system(fixedReadingPipeline, ['queue.maxImagesPerJob=2']);
  try {
    const pages = await Promise.all([0, 1, 2].map(page));
    const tooMany = await submitUploads(jobs.url, pages);
    assert.equal(tooMany.status, 400);
    const body = (await tooMany.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'INVALID_REQUEST');
    assert.match(body.error.message, /queue\.maxImagesPerJob/);
    const unknown = await submitUploads(jobs.url, pages.slice(0, 1), { pipeline: 'receipts' });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'UNKNOWN_PIPELINE');
    const queue = new JobQueue(jobs.visionops.config.queue);
    const figures = await queue.figures();
    await queue.close();
    assert.equal(figures.waiting, 0);
  } finally {
    await jobs.close();
  }
});

test('a queue whose Redis does not answer: job routes answer 503 QUEUE_UNAVAILABLE with Retry-After, and predictions go on', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'visionops-jobs-'));
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dir)}`, 'queue.redis.url="redis://127.0.0.1:1"'] });
  const visionops = await createVisionops(config, { overrides: { pipelines: [fixedReadingPipeline], lab: [], observers: [] } });
  try {
    const app = await visionops.server();
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const refused = await submitUploads(url, [await page(1)]);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'QUEUE_UNAVAILABLE');
    const predicted = await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(await page(2)) });
    assert.equal(predicted.status, 200);
  } finally {
    await visionops.close();
    await rm(dir, { recursive: true, force: true });
  }
});
