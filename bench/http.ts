/**
 * The HTTP API at saturation against the same prediction service called in-process: 4 clients
 * post pages back to back over real sockets (fetch), then 4 callers call service.predict on the
 * same pages; the extra wall time is what HTTP costs (parsing, routing, JSON, sockets). Measured
 * a second way within the same requests: each client's latency beyond the service's own total.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { createVisionops } from '../src/app/visionops.js';
import { concurrently, documentPages, type Benchmark } from './lib.js';

const CLIENTS = 4;
/** The pipeline's stages in a record's timings: the models and the steps between them. */
const MODEL_STAGES = ['orientation', 'detection', 'crop', 'classification', 'recognition'];

export const httpBenchmark: Benchmark = {
  name: 'http',
  describe: `${CLIENTS} clients posting pages to POST /v1/predict vs ${CLIENTS} callers of service.predict in-process, same pages`,
  async run({ quick }) {
    const pages = (await documentPages(quick ? 2 : 16, 6000)).map((page) => page.bytes);
    const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-'));
    // Every client admitted at once, as in-process: the bench measures HTTP, not the admission queue.
    const config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`, 'cache.enabled=false', 'server.logLevel="warn"', `server.admission.maxInFlight=${CLIENTS}`] });
    // No observers: their work comes after a record's total, and would count as HTTP's.
    const visionops = await createVisionops(config, { overrides: { observers: [] } });
    const service = visionops.services.get();
    const app = await visionops.server();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/predict`;
    const direct = () => concurrently(pages, CLIENTS, (page) => service.predict(page, {}));
    // Per request: what the client waited beyond the service's own total (parsing, routing, JSON, sockets, queueing).
    const outside = { ms: 0, modelMs: 0 };
    const overHttp = () =>
      concurrently(pages, CLIENTS, async (page) => {
        const at = performance.now();
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(page) });
        if (response.status !== 200) throw new Error(`POST /v1/predict answered ${response.status}: ${await response.text()}`);
        const { timings } = (await response.json()) as { timings: Record<string, number> };
        outside.ms += performance.now() - at - timings.total;
        outside.modelMs += MODEL_STAGES.reduce((sum, stage) => sum + (timings[stage] ?? 0), 0);
      });
    const seconds = { direct: 0, http: 0 };
    try {
      await service.predict(pages[0], {});
      for (let round = 0; round < 2; round++) {
        for (const [name, run] of [['direct', direct], ['http', overHttp]] as const) {
          const at = performance.now();
          await run();
          seconds[name] += (performance.now() - at) / 1000;
        }
      }
    } finally {
      await visionops.close();
      await rm(dir, { recursive: true, force: true });
    }
    const count = pages.length * 2;
    return [
      { name: 'http.direct_pages_per_s', value: count / seconds.direct, unit: 'pages/s' },
      { name: 'http.http_pages_per_s', value: count / seconds.http, unit: 'pages/s' },
      { name: 'http.throughput_overhead_percent', value: (100 * (seconds.http - seconds.direct)) / seconds.direct, unit: '%', note: 'wall time of the HTTP rounds over the in-process ones: as noisy as the load' },
      {
        name: 'http.overhead_percent',
        value: (100 * outside.ms) / outside.modelMs,
        unit: '%',
        target: 10,
        atMost: true,
        note: 'per request: client latency minus the service total, over the model stages',
      },
    ];
  },
};
