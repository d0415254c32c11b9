/**
 * Dynamic batching of the recogniser against batch size 1, same workers, same line crops, under
 * the same load: `CLIENTS` callers each send a line as soon as their previous one is answered
 * (a closed loop, as concurrent pages feed it). Throughput and each request's latency (p50, p99).
 */
import { ingestConfigSchema } from '../src/image/config.js';
import { ingestImage } from '../src/image/ingest.js';
import { pipelineConfigSchema } from '../src/pipeline/config.js';
import { bucketed } from '../src/pipeline/document.js';
import { toTensorBatch } from '../src/core/preprocess/tensor.js';
import { batchedModel } from '../src/runtime/batched-model.js';
import { builtinManifests } from '../src/runtime/builtin.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import type { ModelManifest } from '../src/runtime/manifest.js';
import type { TensorData } from '../src/runtime/session.js';
import { startWorkerPool } from '../src/runtime/worker-pool.js';
import { randomLines, renderDocument } from '../test/fixtures/documents.js';
import { percentile, type Benchmark, type Figure } from './lib.js';

const CLIENTS = 8;

/** Single text lines rendered as tight crops, as detection hands them over. */
async function lineInputs(count: number, manifest: ModelManifest, bucketWidth: number): Promise<Record<string, TensorData>[]> {
  const config = ingestConfigSchema.parse({});
  const inputs = [];
  for (let i = 0; i < count; i++) {
    const [line] = randomLines(9000 + i, 1);
    const png = await renderDocument({ lines: [line], fontSize: 30, width: 40 + line.length * 19 });
    const { frame } = await ingestImage(png, config);
    const { data, dims } = toTensorBatch([frame], bucketed(frame, manifest.preprocess, bucketWidth));
    inputs.push({ [manifest.inputs[0].name]: { data, dims } });
  }
  return inputs;
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
  describe: `recognition lines/s and latency with dynamic batching vs batch size 1, ${CLIENTS} concurrent callers, same 2 workers`,
  async run({ quick }) {
    const builtin = await builtinManifests();
    const runtime = runtimeConfigSchema.parse({});
    const settings = pipelineConfigSchema.parse({});
    const inputs = await lineInputs(quick ? 4 : 24, builtin.recognition, settings.recognition.bucketWidth);
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
      );
    } finally {
      await pool.close();
    }
    return figures;
  },
};
