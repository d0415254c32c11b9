/**
 * The recogniser over the Open Inference Protocol against the same session called in-process:
 * one line tensor ([1, 3, 48, 320], the recogniser's padded width) run by the pipeline's own
 * worker session (baseline), by a remote session (runtime.remote: binary tensors over HTTP to
 * this process's /v2 route, which runs that same worker session), and by a JSON request as a
 * plain OIP client writes it. The cases take turns, one request at a time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVisionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { seededRandom } from '../src/core/monitor/random.js';
import { remoteBackendSchema } from '../src/runtime/remote/config.js';
import { remoteSession } from '../src/runtime/remote/session.js';
import { median, percentile, timeInTurn, type Benchmark } from './lib.js';

export const oipBenchmark: Benchmark = {
  name: 'oip',
  describe: 'one recogniser line: the worker session in-process vs the same session behind POST /v2/models/{model}/infer (binary, and JSON)',
  async run({ quick }) {
    const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-'));
    const config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`, 'server.logLevel="warn"', 'runtime.workers=1'] });
    const visionops = await createVisionops(config, { overrides: { observers: [] } });
    const app = await visionops.server();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const session = visionops.pipelines[0].sessions?.find((candidate) => candidate.manifest.postprocess.kind === 'ctc');
    if (session === undefined) throw new Error('The default pipeline serves no recogniser session.');
    const remote = remoteSession(session.manifest, remoteBackendSchema.parse({ endpoints: [base] }));
    const random = seededRandom(320);
    const dims = [1, 3, 48, 320];
    const data = Float32Array.from({ length: 3 * 48 * 320 }, () => random() * 2 - 1);
    const jsonBody = JSON.stringify({ inputs: [{ name: session.manifest.inputs[0].name, shape: dims, datatype: 'FP32', data: Array.from(data) }] });
    const rounds = quick ? 2 : 100;
    try {
      const samples = await timeInTurn(rounds, {
        inProcess: () => session.run({ x: { data, dims } }),
        binary: () => remote.run({ x: { data, dims } }),
        json: async () => {
          const response = await fetch(`${base}/v2/models/${session.manifest.id}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonBody });
          if (response.status !== 200) throw new Error(`infer answered ${response.status}: ${await response.text()}`);
          await response.json();
        },
      });
      const figure = (name: string, values: number[]) => [
        { name: `oip.${name}_median_ms`, value: median(values), unit: 'ms' },
        { name: `oip.${name}_p99_ms`, value: percentile(values, 99), unit: 'ms' },
      ];
      return [
        ...figure('in_process', samples.inProcess),
        ...figure('binary', samples.binary),
        ...figure('json', samples.json),
        { name: 'oip.binary_over_in_process', value: median(samples.binary) / median(samples.inProcess), unit: 'x', note: `median of ${rounds} requests each` },
        { name: 'oip.json_over_in_process', value: median(samples.json) / median(samples.inProcess), unit: 'x', note: 'the raw output is [1, 80, 6625] floats: 2.1 MB binary, far more as JSON text' },
      ];
    } finally {
      await remote.close();
      await visionops.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
