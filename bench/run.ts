/**
 * `npm run bench [-- --quick] [-- --only a,b]`: every benchmark against its baseline, measured in
 * the same process; prints a table and writes bench-results.json with every named figure.
 * --quick runs tiny inputs to prove the machinery works (its figures mean nothing).
 */
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { batchingBenchmark } from './batching.js';
import { cacheBenchmark } from './cache.js';
import { edgeBenchmark } from './edge.js';
import { gateBenchmark } from './gate.js';
import { httpBenchmark } from './http.js';
import { ingestBenchmark } from './ingest.js';
import { int8Benchmark } from './int8.js';
import { oipBenchmark } from './oip.js';
import type { Benchmark, Figure } from './lib.js';
import { pipelineBenchmark, threadsBenchmark } from './pipeline.js';
import { resizeBenchmark } from './resize.js';
import { spellingBenchmark } from './spelling.js';

export const BENCHMARKS: Benchmark[] = [gateBenchmark, ingestBenchmark, cacheBenchmark, batchingBenchmark, pipelineBenchmark, httpBenchmark, int8Benchmark, threadsBenchmark, resizeBenchmark, oipBenchmark, edgeBenchmark, spellingBenchmark];

export interface BenchResults {
  quick: boolean;
  startedAt: string;
  machine: { cpus: number; model: string; loadAverageBefore: number[]; loadAverageAfter: number[]; node: string };
  figures: Record<string, { value: number; unit: string; target?: number; atMost?: boolean; met?: boolean; note?: string }>;
}

function met(figure: Figure): boolean | undefined {
  if (figure.target === undefined || Number.isNaN(figure.value)) return undefined;
  return figure.atMost ? figure.value <= figure.target : figure.value >= figure.target;
}

function row(figure: Figure): string {
  const value = Number.isNaN(figure.value) ? 'n/a' : figure.value >= 100 ? figure.value.toFixed(0) : figure.value.toFixed(2);
  const target = figure.target === undefined ? '' : `${figure.atMost ? '<=' : '>='} ${figure.target}${figure.unit === 'x' ? 'x' : ` ${figure.unit}`}`;
  const verdict = met(figure) === undefined ? '' : met(figure) ? 'met' : 'MISSED';
  return `  ${figure.name.padEnd(44)} ${`${value} ${figure.unit}`.padStart(16)}  ${target.padEnd(12)} ${verdict}${figure.note ? `  (${figure.note})` : ''}`;
}

/** Runs the named benchmarks (all when `only` is empty), printing as it goes; returns the results written. */
export async function runBenchmarks(options: { quick: boolean; only: string[]; out: string | null; print: (line: string) => void }): Promise<BenchResults> {
  const chosen = options.only.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => options.only.includes(b.name));
  const unknown = options.only.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) throw new Error(`No benchmark named ${unknown.join(', ')}; there are ${BENCHMARKS.map((b) => b.name).join(', ')}.`);
  const results: BenchResults = {
    quick: options.quick,
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadAverageBefore: loadavg(), loadAverageAfter: [], node: process.version },
    figures: {},
  };
  for (const benchmark of chosen) {
    options.print(`${benchmark.name}: ${benchmark.describe}`);
    for (const figure of await benchmark.run({ quick: options.quick })) {
      options.print(row(figure));
      results.figures[figure.name] = { value: figure.value, unit: figure.unit, target: figure.target, atMost: figure.atMost, met: met(figure), note: figure.note };
    }
  }
  results.machine.loadAverageAfter = loadavg();
  if (options.out !== null) await writeFile(options.out, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string', default: '' }, out: { type: 'string', default: 'bench-results.json' } } });
  const only = values.only === '' ? [] : values.only.split(',');
  console.log(`visionops benchmarks${values.quick ? ' (--quick: tiny inputs, figures meaningless)' : ''}; ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await runBenchmarks({ quick: values.quick, only, out: values.out, print: (line) => console.log(line) });
  console.log(`figures written to ${values.out}`);
}
