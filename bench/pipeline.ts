/**
 * The document pipeline as `visionops run` drives it (4 images under way, inference workers,
 * dynamic batching) against a plain sequential loop over the same three models with the same
 * preprocessing and no batching (models on the main thread, one image and one line at a time).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inOrderConcurrently } from '../src/cli/concurrent.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { createVisionops } from '../src/app/visionops.js';
import { isDocumentResult, type TaskResult } from '../src/core/records/prediction.js';
import { characterErrorRate } from '../test/fixtures/documents.js';
import { BATCHING_ON, documentPages, type Benchmark } from './lib.js';

/** The settings of the plain loop: models on the main thread with both cores, no batching. */
export const PLAIN_LOOP_SETTINGS = [
  'runtime.workers=0',
  'runtime.intraOpThreads=2',
  'runtime.decodeThreads=0',
  'runtime.batching.orientation.maxBatchSize=1',
  'runtime.batching.recognition.maxBatchSize=1',
];

/** `BATCHING_ON` as --set overrides. */
const BATCHING_ON_SETTINGS = Object.entries(BATCHING_ON).flatMap(([model, settings]) =>
  Object.entries(settings).map(([key, value]) => `runtime.batching.${model}.${key}=${value}`),
);

export interface PipelineRun {
  seconds: number;
  texts: string[];
}

/** Predicts every page through the prediction service built from `sets`, `concurrency` at a time (1: a plain for loop). */
export async function runPages(pages: Buffer[], sets: string[], concurrency: number): Promise<PipelineRun> {
  const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-'));
  const config: Config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`, 'cache.enabled=false', ...sets] });
  const visionops = await createVisionops(config, { scope: 'run', overrides: { observers: [] } });
  const service = visionops.services.get();
  try {
    // One untimed page first: sessions warm up on their first run.
    await service.predict(pages[0], {});
    const texts: string[] = [];
    const started = performance.now();
    if (concurrency === 1) {
      for (const page of pages) texts.push(textOf((await service.predict(page, {})).result));
    } else {
      await inOrderConcurrently(pages, concurrency, (page) => service.predict(page, {}), (record) => void texts.push(textOf(record.result)));
    }
    return { seconds: (performance.now() - started) / 1000, texts };
  } finally {
    await visionops.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const pipelineBenchmark: Benchmark = {
  name: 'pipeline',
  describe: 'pages/s of run-style concurrency 4 + workers vs a plain sequential loop, same pages; and the same with dynamic batching on',
  async run({ quick }) {
    const pages = await documentPages(quick ? 4 : 50);
    const bytes = pages.map((page) => page.bytes);
    // Half the pages each way, then the other half, so a neighbour's load that comes or goes
    // during the run weighs on both alike.
    const halves = [bytes.slice(0, bytes.length / 2), bytes.slice(bytes.length / 2)];
    const plain = { seconds: 0, texts: [] as string[] };
    const piped = { seconds: 0, texts: [] as string[] };
    const batched = { seconds: 0, texts: [] as string[] };
    for (const half of halves) {
      for (const [total, run] of [
        [plain, () => runPages(half, PLAIN_LOOP_SETTINGS, 1)],
        [piped, () => runPages(half, [], 4)],
        [batched, () => runPages(half, BATCHING_ON_SETTINGS, 4)],
      ] as const) {
        const { seconds, texts } = await run();
        total.seconds += seconds;
        total.texts.push(...texts);
      }
    }
    const differing = plain.texts.filter((text, i) => text !== piped.texts[i]).length;
    const reference = pages.map((page) => page.lines.join('\n')).join('\n');
    return [
      { name: 'pipeline.pages', value: pages.length, unit: 'pages' },
      { name: 'pipeline.plain_pages_per_s', value: pages.length / plain.seconds, unit: 'pages/s' },
      { name: 'pipeline.concurrent_pages_per_s', value: pages.length / piped.seconds, unit: 'pages/s' },
      { name: 'pipeline.speedup', value: plain.seconds / piped.seconds, unit: 'x', target: 1.5 },
      { name: 'pipeline.pages_with_different_text', value: differing, unit: 'pages', target: 0, atMost: true },
      { name: 'pipeline.batched_pages_per_s', value: pages.length / batched.seconds, unit: 'pages/s', note: 'the same, with dynamic batching on' },
      { name: 'pipeline.batching_end_to_end', value: piped.seconds / batched.seconds, unit: 'x', note: 'batching on against off; under 1 is why it is off by default' },
      { name: 'pipeline.batched_pages_with_different_text', value: batched.texts.filter((text, i) => text !== plain.texts[i]).length, unit: 'pages', target: 0, atMost: true },
      { name: 'pipeline.cer_percent', value: 100 * characterErrorRate(reference, piped.texts.join('\n')), unit: '%' },
    ];
  },
};

/** The same pages under each thread layout, to choose the defaults (docs/performance.md). */
export const threadsBenchmark: Benchmark = {
  name: 'threads',
  describe: 'pages/s at concurrency 4 per layout of onnxruntime workers x intra-op threads and libvips threads',
  async run({ quick }) {
    const bytes = (await documentPages(quick ? 2 : 16, 7000)).map((page) => page.bytes);
    const layouts: [string, string[]][] = [
      ['main_thread_intra2', ['runtime.workers=0', 'runtime.intraOpThreads=2']],
      ['workers1_intra2', ['runtime.workers=1', 'runtime.intraOpThreads=2']],
      ['workers2_intra1', ['runtime.workers=2', 'runtime.intraOpThreads=1']],
      ['workers2_intra2', ['runtime.workers=2', 'runtime.intraOpThreads=2']],
      ['workers2_intra1_vips2', ['runtime.workers=2', 'runtime.intraOpThreads=1', 'runtime.decodeThreads=2']],
    ];
    // Every layout on half the pages, then every layout on the other half: load that drifts
    // during the run is shared out instead of landing on whichever layout came last.
    const seconds = new Map<string, number>();
    for (const half of [bytes.slice(0, bytes.length / 2), bytes.slice(bytes.length / 2)]) {
      for (const [name, sets] of layouts) seconds.set(name, (seconds.get(name) ?? 0) + (await runPages(half, sets, 4)).seconds);
    }
    return layouts.map(([name]) => ({ name: `threads.${name}_pages_per_s`, value: bytes.length / seconds.get(name)!, unit: 'pages/s' }));
  },
};

function textOf(result: TaskResult | null): string {
  return result !== null && isDocumentResult(result) ? result.text : '';
}
