import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runBenchmarks, type BenchResults } from '../bench/run.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-bench-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the benchmarks run on tiny inputs, print a table and write their named figures with targets', async () => {
  const out = join(dir, 'bench-results.json');
  const printed: string[] = [];
  await runBenchmarks({ quick: true, only: ['ingest', 'batching'], out, print: (line) => printed.push(line) });
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  assert.equal(results.quick, true);
  for (const name of ['ingest.small.ingest_ms', 'batching.recognition.throughput_ratio', 'batching.recognition.dynamic_p99_ms', 'batching.orientation.mean_batch_size', 'batching.recognition.model_batch_gain']) {
    assert.ok(Number.isFinite(results.figures[name]?.value), `${name} is measured`);
  }
  assert.equal(results.figures['batching.recognition.throughput_ratio'].target, 1.5);
  assert.equal(typeof results.figures['batching.recognition.throughput_ratio'].met, 'boolean');
  assert.ok(printed.some((line) => line.startsWith('batching:')));
  assert.ok(printed.some((line) => line.includes('batching.recognition.throughput_ratio')));
});

test('an unknown benchmark name is refused with the list of names', async () => {
  await assert.rejects(runBenchmarks({ quick: true, only: ['nope'], out: null, print: () => {} }), /there are gate, ingest/);
});
