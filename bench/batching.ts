/**
 * Dynamic batching of the recogniser against batch size 1, same workers, same line crops, under
 * the same load: `CLIENTS` callers each send a line as soon as their previous one is answered
 * (a closed loop, as concurrent pages feed it). Throughput and each request's latency (p50, p99).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { calibrationInputs } from '../src/quantize/calibrate.js';
import { batchedModel } from '../src/runtime/batched-model.js';
import { builtinManifests } from '../src/runtime/builtin.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import type { TensorData } from '../src/runtime/session.js';
import { startWorkerPool } from '../src/runtime/worker-pool.js';
import { documentPages, percentile, type Benchmark, type Figure } from './lib.js';

const CLIENTS = 8;

/** Text line crops as the pipeline makes them (detected on generated pages, preprocessed and bucketed). */
async function lineInputs(pages: number, role: 'recognition' | 'orientation'): Promise<Record<string, TensorData>[]> {
  const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-lines-'));
  try {
    const files = [];
    for (const [i, page] of (await documentPages(pages, 3000)).entries()) {
      const file = join(dir, `page-${i}.jpg`);
      await writeFile(file, page.bytes);
      files.push(file);
    }
    const config = loadConfig({});
    const lines = await calibrationInputs(role, files, await builtinManifests(), { ingest: config.ingest, pipeline: config.pipeline, runtime: config.runtime });
    return lines.map((line) => ({ x: line.tensor }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function closedLoop(infer: (feeds: Record<string, TensorData>) => Promise<unknown>, inputs: Record<string, TensorData>[], requests: number) {
  const latencies: number[] = [];
  let sent = 0;
  const started = performance.now();
  const client = async () => {
    while (sent < requests) {
      const feeds = inputs[sent++ % inputs.length];
      const at = performance.now();
      await infer(feeds);
      latencies.push(performance.now() - at);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { perSecond: requests / ((performance.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export const batchingBenchmark: Benchmark = {
  name: 'batching',
  describe: `lines/s and latency with dynamic batching vs batch size 1, ${CLIENTS} concurrent callers, same 2 workers: recognition, then the line classifier`,
  async run({ quick }) {
    const builtin = await builtinManifests();
    const runtime = runtimeConfigSchema.parse({});
    const inputs = await lineInputs(quick ? 1 : 6, 'recognition');
    const crops = await lineInputs(quick ? 1 : 2, 'orientation');
    const requests = quick ? 8 : 192;
    const pool = await startWorkerPool([builtin.recognition, builtin.orientation], runtime, runtime.workers);
    const figures: Figure[] = [];
    try {
      const [recognition] = pool.sessions;
      const batch = runtime.batching.recognition;
      const single = batchedModel(recognition, { maxBatchSize: 1, maxQueueDelayMicros: 0, maxInFlight: pool.size });
      const batched = batchedModel(recognition, { ...batch, maxInFlight: pool.size });
      const sizes: number[] = [];
      const observed = batchedModel(recognition, { ...batch, maxInFlight: pool.size, onBatch: (event) => sizes.push(event.size) });
      await closedLoop((feeds) => single.infer(feeds), inputs, CLIENTS);
      // Alternate the two so a busy neighbour slows both alike.
      const one = [];
      const many = [];
      for (let round = 0; round < 2; round++) {
        one.push(await closedLoop((feeds) => single.infer(feeds), inputs, requests / 2));
        many.push(await closedLoop((feeds) => batched.infer(feeds), inputs, requests / 2));
      }
      await closedLoop((feeds) => observed.infer(feeds), inputs, requests / 4);
      // The 0/180 classifier is small enough that each run's fixed cost dominates: where batching pays most.
      const orientation = pool.sessions[1];
      const classifyOne = batchedModel(orientation, { maxBatchSize: 1, maxQueueDelayMicros: 0, maxInFlight: pool.size });
      const classifyMany = batchedModel(orientation, { ...runtime.batching.orientation, maxInFlight: pool.size });
      await closedLoop((feeds) => classifyOne.infer(feeds), crops, CLIENTS);
      const classified = { one: await closedLoop((feeds) => classifyOne.infer(feeds), crops, requests), many: await closedLoop((feeds) => classifyMany.infer(feeds), crops, requests) };
      const mean = (runs: { perSecond: number }[]) => runs.reduce((sum, run) => sum + run.perSecond, 0) / runs.length;
      const worst = (runs: { p99: number }[]) => Math.max(...runs.map((run) => run.p99));
      figures.push(
        { name: 'batching.batch1_lines_per_s', value: mean(one), unit: 'lines/s' },
        { name: 'batching.dynamic_lines_per_s', value: mean(many), unit: 'lines/s' },
        { name: 'batching.throughput_ratio', value: mean(many) / mean(one), unit: 'x', target: 1.5 },
        { name: 'batching.batch1_p99_ms', value: worst(one), unit: 'ms' },
        { name: 'batching.dynamic_p99_ms', value: worst(many), unit: 'ms' },
        { name: 'batching.p99_ratio', value: worst(many) / worst(one), unit: 'x', target: 1, atMost: true },
        { name: 'batching.mean_batch_size', value: sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length), unit: 'lines' },
        { name: 'batching.orientation_throughput_ratio', value: classified.many.perSecond / classified.one.perSecond, unit: 'x', note: 'the 0/180 line classifier, same load' },
        { name: 'batching.orientation_p99_ratio', value: classified.many.p99 / classified.one.p99, unit: 'x' },
      );
    } finally {
      await pool.close();
    }
    return figures;
  },
};
