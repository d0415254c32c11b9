/**
 * Dynamic batching against batch size 1, same workers, same line crops, under the load the
 * document pipeline puts on it: `PAGES_AT_ONCE` readers (as `visionops run` keeps four pages under
 * way), each sending all the lines of a page at once and the next page when they are answered.
 * Lines per second and each line's latency (p50, p99), for the recogniser and the 0/180 line
 * classifier; beside them, the model's own batch efficiency in one onnxruntime session on this
 * thread (time per line at batch 8 against batch 1): the most batching can give on this CPU.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { calibrationInputs, type CalibrationInput } from '../src/quantize/calibrate.js';
import { batchedModel, type BatchedModel } from '../src/runtime/batched-model.js';
import { builtinManifests } from '../src/runtime/builtin.js';
import { runtimeConfigSchema, type BatchingConfig } from '../src/runtime/config.js';
import type { ModelManifest } from '../src/runtime/manifest.js';
import { createOnnxSession } from '../src/runtime/onnx-node.js';
import type { TensorData } from '../src/runtime/session.js';
import { startWorkerPool, type WorkerPool } from '../src/runtime/worker-pool.js';
import { BATCHING_ON, documentPages, median, percentile, type Benchmark, type Figure } from './lib.js';

const PAGES_AT_ONCE = 4;
const RAW_BATCH = 8;

type Role = 'recognition' | 'orientation';

/** Text line crops as the pipeline makes them (detected on generated pages, preprocessed and bucketed), page by page. */
async function pagesOfLines(pages: number, role: Role): Promise<TensorData[][]> {
  const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-lines-'));
  try {
    const files = [];
    for (const [i, page] of (await documentPages(pages, 3000)).entries()) {
      const file = join(dir, `page-${i}.jpg`);
      await writeFile(file, page.bytes);
      files.push(file);
    }
    const config = loadConfig({});
    const lines: CalibrationInput[] = await calibrationInputs(role, files, await builtinManifests(), { ingest: config.ingest, pipeline: config.pipeline, runtime: config.runtime });
    const byPage: TensorData[][] = [];
    for (const line of lines) (byPage[line.page] ??= []).push(line.tensor);
    return byPage.filter((page) => page.length > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `PAGES_AT_ONCE` readers, each sending a page's lines together, until `pages` pages are read. */
async function pageLoad(model: BatchedModel, inputs: TensorData[][], pages: number) {
  const latencies: number[] = [];
  let next = 0;
  let lines = 0;
  const started = performance.now();
  const reader = async () => {
    while (next < pages) {
      const page = inputs[next++ % inputs.length];
      lines += page.length;
      await Promise.all(
        page.map(async (x) => {
          const at = performance.now();
          await model.infer({ x });
          latencies.push(performance.now() - at);
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: PAGES_AT_ONCE }, reader));
  return { perSecond: lines / ((performance.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Milliseconds per line in one session on this thread, batch 1 against batch `RAW_BATCH` of the same lines. */
async function modelEfficiency(manifest: ModelManifest, inputs: TensorData[][], rounds: number): Promise<{ one: number; many: number }> {
  const session = await createOnnxSession(manifest, runtimeConfigSchema.parse({}));
  try {
    // One bucket, so that the lines stack: the commonest shape.
    const shapes = new Map<string, TensorData[]>();
    for (const line of inputs.flat()) {
      const key = line.dims.join('x');
      const same = shapes.get(key) ?? [];
      same.push(line);
      shapes.set(key, same);
    }
    const lines = [...shapes.values()].sort((a, b) => b.length - a.length)[0].slice(0, RAW_BATCH);
    const stacked = new Float32Array(lines.length * lines[0].data.length);
    lines.forEach((line, n) => stacked.set(line.data, n * line.data.length));
    const batch = { data: stacked, dims: [lines.length, ...lines[0].dims.slice(1)] };
    const one: number[] = [];
    const many: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      let at = performance.now();
      for (const line of lines) await session.run({ x: line });
      if (round > 0) one.push((performance.now() - at) / lines.length);
      at = performance.now();
      await session.run({ x: batch });
      if (round > 0) many.push((performance.now() - at) / lines.length);
    }
    return { one: median(one), many: median(many) };
  } finally {
    await session.close();
  }
}

async function compare(role: Role, pool: WorkerPool, session: number, batching: BatchingConfig, inputs: TensorData[][], pages: number, manifest: ModelManifest, quick: boolean): Promise<Figure[]> {
  const sizes: number[] = [];
  const single = batchedModel(pool.sessions[session], { maxBatchSize: 1, maxQueueDelayMicros: 0, maxInFlight: pool.size });
  const batched = batchedModel(pool.sessions[session], { ...batching, maxInFlight: pool.size, onBatch: (event) => sizes.push(event.size) });
  await pageLoad(single, inputs, PAGES_AT_ONCE);
  await pageLoad(batched, inputs, PAGES_AT_ONCE);
  sizes.length = 0;
  // Alternate the two so a busy neighbour slows both alike.
  const one = [];
  const many = [];
  for (let round = 0; round < 2; round++) {
    one.push(await pageLoad(single, inputs, pages / 2));
    many.push(await pageLoad(batched, inputs, pages / 2));
  }
  const raw = await modelEfficiency(manifest, inputs, quick ? 1 : 5);
  const mean = (runs: { perSecond: number }[]) => runs.reduce((sum, run) => sum + run.perSecond, 0) / runs.length;
  const worst = (runs: { p99: number }[]) => Math.max(...runs.map((run) => run.p99));
  const name = `batching.${role}`;
  return [
    { name: `${name}.batch1_lines_per_s`, value: mean(one), unit: 'lines/s' },
    { name: `${name}.dynamic_lines_per_s`, value: mean(many), unit: 'lines/s' },
    { name: `${name}.throughput_ratio`, value: mean(many) / mean(one), unit: 'x', target: 1.5 },
    { name: `${name}.batch1_p99_ms`, value: worst(one), unit: 'ms' },
    { name: `${name}.dynamic_p99_ms`, value: worst(many), unit: 'ms' },
    { name: `${name}.p99_ratio`, value: worst(many) / worst(one), unit: 'x', target: 1, atMost: true },
    { name: `${name}.mean_batch_size`, value: sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length), unit: 'lines' },
    { name: `${name}.model_ms_per_line_batch1`, value: raw.one, unit: 'ms', note: 'one session on this thread' },
    { name: `${name}.model_ms_per_line_batch${RAW_BATCH}`, value: raw.many, unit: 'ms' },
    { name: `${name}.model_batch_gain`, value: raw.one / raw.many, unit: 'x', note: `the most batching can give on this CPU: batch ${RAW_BATCH} against 1, same lines` },
  ];
}

export const batchingBenchmark: Benchmark = {
  name: 'batching',
  describe: `lines/s and latency with dynamic batching vs batch size 1, ${PAGES_AT_ONCE} pages at a time (a page's lines sent together), same 2 workers: the 0/180 line classifier, then the recogniser`,
  async run({ quick }) {
    const builtin = await builtinManifests();
    const runtime = runtimeConfigSchema.parse({});
    const recognitionInputs = await pagesOfLines(quick ? 2 : 8, 'recognition');
    const orientationInputs = await pagesOfLines(quick ? 2 : 8, 'orientation');
    const pages = quick ? 4 : 48;
    const pool = await startWorkerPool([builtin.recognition, builtin.orientation], runtime, runtime.workers);
    try {
      return [
        ...(await compare('orientation', pool, 1, BATCHING_ON.orientation, orientationInputs, pages, builtin.orientation, quick)),
        ...(await compare('recognition', pool, 0, BATCHING_ON.recognition, recognitionInputs, pages, builtin.recognition, quick)),
      ];
    } finally {
      await pool.close();
    }
  },
};
