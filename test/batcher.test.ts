import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ingestConfigSchema } from '../src/image/config.js';
import { ingestImage } from '../src/image/ingest.js';
import { pipelineConfigSchema } from '../src/pipeline/config.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { loadConfig } from '../src/config/load.js';
import { MonitorMetrics } from '../src/monitor/metrics.js';
import { performanceObserver } from '../src/monitor/observers/performance.js';
import { batchedModel } from '../src/runtime/batched-model.js';
import { DynamicBatcher, type BatchEvent } from '../src/runtime/batcher.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import type { ModelManifest } from '../src/runtime/manifest.js';
import type { ModelSession, TensorData } from '../src/runtime/session.js';
import { randomLines, renderDocument } from './fixtures/documents.js';

/** A batcher over numbers whose run doubles them and remembers every batch it was given. */
function doubling(options: { maxBatchSize: number; maxQueueDelayMicros: number; maxInFlight?: number; keyOf?: (n: number) => string }) {
  const batches: number[][] = [];
  const events: BatchEvent[] = [];
  let running = 0;
  let mostRunning = 0;
  const batcher = new DynamicBatcher<number, number>({
    name: 'double',
    maxInFlight: 1,
    keyOf: () => 'all',
    ...options,
    run: async (items) => {
      running++;
      mostRunning = Math.max(mostRunning, running);
      batches.push(items);
      await new Promise((done) => setTimeout(done, 5));
      running--;
      return items.map((n) => n * 2);
    },
    onBatch: (event) => events.push(event),
  });
  return { batcher, batches, events, mostRunning: () => mostRunning };
}

test('requests arriving together share batches up to maxBatchSize, and each gets its own answer', async () => {
  const { batcher, batches } = doubling({ maxBatchSize: 4, maxQueueDelayMicros: 1_000_000 });
  const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => batcher.submit(n)));
  assert.deepEqual(answers, [2, 4, 6, 8, 10, 12, 14, 16]);
  assert.deepEqual(batches, [
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ]);
});

test('a lone request goes once it has waited maxQueueDelayMicros, without company', async () => {
  const { batcher, batches, events } = doubling({ maxBatchSize: 8, maxQueueDelayMicros: 3000 });
  assert.equal(await batcher.submit(21), 42);
  assert.deepEqual(batches, [[21]]);
  assert.equal(events[0].size, 1);
  assert.ok(events[0].queueDelaysMicros[0] >= 3000, `waited ${events[0].queueDelaysMicros[0]} us`);
});

test('requests submitted in the same turn meet in one batch even with no queue delay', async () => {
  const { batcher, batches } = doubling({ maxBatchSize: 8, maxQueueDelayMicros: 0 });
  await Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
  await batcher.submit(4);
  assert.deepEqual(batches, [[1, 2, 3], [4]]);
});

test('with maxBatchSize 1 every request runs alone', async () => {
  const { batcher, batches } = doubling({ maxBatchSize: 1, maxQueueDelayMicros: 0 });
  await Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
  assert.deepEqual(batches, [[1], [2], [3]]);
});

test('requests of different buckets never share a batch', async () => {
  const { batcher, batches } = doubling({ maxBatchSize: 8, maxQueueDelayMicros: 1000, keyOf: (n) => (n % 2 === 0 ? 'even' : 'odd') });
  await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
  assert.deepEqual(batches.map((batch) => [...batch].sort()).sort(), [
    [1, 3, 5],
    [2, 4],
  ]);
});

test('no more than maxInFlight batches run at once; the queue fills meanwhile and the next batch is bigger', async () => {
  const { batcher, batches, mostRunning } = doubling({ maxBatchSize: 16, maxQueueDelayMicros: 0, maxInFlight: 1 });
  const first = batcher.submit(0);
  await new Promise((done) => setImmediate(done));
  const rest = [1, 2, 3, 4, 5].map((n) => batcher.submit(n));
  await Promise.all([first, ...rest]);
  assert.equal(mostRunning(), 1);
  assert.deepEqual(batches, [[0], [1, 2, 3, 4, 5]]);
});

test('what waits is shared out over the free slots: eight requests and two idle workers make two batches of four', async () => {
  const { batcher, batches, mostRunning } = doubling({ maxBatchSize: 16, maxQueueDelayMicros: 2000, maxInFlight: 2 });
  await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => batcher.submit(n)));
  assert.deepEqual(batches, [
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ]);
  assert.equal(mostRunning(), 2);
});

test('a failed run rejects every request of its batch, and the batcher goes on', async () => {
  let calls = 0;
  const batcher = new DynamicBatcher<number, number>({
    name: 'flaky',
    maxBatchSize: 2,
    maxQueueDelayMicros: 1_000_000,
    maxInFlight: 1,
    keyOf: () => 'all',
    run: async (items) => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return items;
    },
  });
  const outcomes = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['rejected', 'rejected'],
  );
  assert.deepEqual(await Promise.all([batcher.submit(3), batcher.submit(4)]), [3, 4]);
});

const manifest = { id: 'sum', version: '1', outputs: [{ name: 'y', shape: ['batch', 1] }] } as unknown as ModelManifest;

/** A model that sums each example's values, and remembers the batch sizes it ran. */
function summingSession(): ModelSession & { sizes: number[] } {
  const sizes: number[] = [];
  return {
    manifest,
    sizes,
    async run(feeds: Record<string, TensorData>) {
      const x = feeds.x;
      const [n] = x.dims;
      sizes.push(n);
      const per = x.data.length / n;
      const y = new Float32Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < per; j++) y[i] += x.data[i * per + j];
      return { y: { data: y, dims: [n, 1] } };
    },
    async close() {},
  };
}

const example = (values: number[]): Record<string, TensorData> => ({ x: { data: Float32Array.from(values), dims: [1, values.length] } });

test('a batched model stacks same-shaped examples into one run and splits the outputs back in order', async () => {
  const session = summingSession();
  const model = batchedModel(session, { maxBatchSize: 8, maxQueueDelayMicros: 1_000_000, maxInFlight: 1 });
  const [a, b, c] = await Promise.all([model.infer(example([1, 2])), model.infer(example([10, 20])), model.infer(example([100, 200, 300]))]);
  assert.deepEqual([...a.y.data], [3]);
  assert.deepEqual([...b.y.data], [30]);
  assert.deepEqual([...c.y.data], [600]);
  assert.deepEqual(a.y.dims, [1, 1]);
  // [1, 2] and [10, 20] share a shape and a run; [100, 200, 300] runs in its own.
  assert.deepEqual([...session.sizes].sort(), [1, 2]);
});

test('a batched model refuses an input that already holds a batch', () => {
  const model = batchedModel(summingSession(), { maxBatchSize: 8, maxQueueDelayMicros: 0, maxInFlight: 1 });
  assert.throws(() => model.infer({ x: { data: new Float32Array(4), dims: [2, 2] } }), /one example at a time/);
});

test('lines of pages read at the same time share recognition batches, and read as they do alone without batching', async () => {
  const pages = await Promise.all(
    [11, 12].map(async (seed) => (await ingestImage(await renderDocument({ lines: randomLines(seed, 3), width: 900 }), ingestConfigSchema.parse({}))).frame),
  );
  const settings = pipelineConfigSchema.parse({ recognition: { bucketWidth: 4096 } });
  const events: BatchEvent[] = [];
  const batched = await loadDocumentPipeline(
    settings,
    // One worker: with two, the six lines would be shared out as two batches of three.
    runtimeConfigSchema.parse({ workers: 1, batching: { recognition: { maxBatchSize: 16, maxQueueDelayMicros: 300_000 } } }),
    { onBatch: (event) => events.push(event) },
  );
  const plain = await loadDocumentPipeline(
    settings,
    runtimeConfigSchema.parse({ workers: 0, intraOpThreads: 2, batching: { orientation: { maxBatchSize: 1 }, recognition: { maxBatchSize: 1 } } }),
  );
  try {
    const together = await Promise.all(pages.map((frame) => batched.read(frame, { exifOrientation: 1 })));
    const alone = [];
    for (const frame of pages) alone.push(await plain.read(frame, { exifOrientation: 1 }));
    const recognition = events.filter((event) => event.name === 'ch_PP-OCRv4_rec');
    assert.ok(
      recognition.some((event) => event.size > 3),
      `some batch holds lines of both pages (3 lines each): ${recognition.map((event) => event.size).join(', ')}`,
    );
    assert.ok(recognition.every((event) => event.queueDelaysMicros.length === event.size));
    assert.deepEqual(
      together.map((read) => read.result.text),
      alone.map((read) => read.result.text),
    );
    assert.equal(together[0].result.lines.length, 3);
  } finally {
    await Promise.all([batched.close(), plain.close()]);
  }
});

test('batch sizes, queue delays, cache hits and early exits are exported as Prometheus metrics', async () => {
  const instruments = new MonitorMetrics(loadConfig().monitor);
  const { registry } = instruments;
  const metrics = performanceObserver(instruments);
  metrics.onBatch({ name: 'rec', bucket: 'x', size: 3, queueDelaysMicros: [100, 2000, 50] });
  const record = (extra: object) => ({ record: { lineage: {}, result: { text: '', lines: [], orientation: { rotation: 0, source: 'none' }, cascade: { lines: 4, earlyExits: 3 } }, ...extra } }) as never;
  await metrics.recorded(record({}));
  await metrics.recorded(record({ lineage: { cache: { hit: 'exact', of: 'x', distance: 0 } } }));
  const text = await registry.metrics();
  assert.match(text, /visionops_batch_size_sum\{model="rec"\} 3/);
  assert.match(text, /visionops_batch_queue_delay_seconds_count\{model="rec"\} 3/);
  assert.match(text, /visionops_cache_hits_total\{kind="exact"\} 1/);
  assert.match(text, /visionops_cascade_lines_total 4/);
  assert.match(text, /visionops_cascade_early_exits_total 3/);
});
