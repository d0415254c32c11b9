/**
 * The HTTP API at saturation against the same prediction service called in-process: 4 clients
 * post pages back to back over real sockets (fetch), then 4 callers call service.predict on the
 * same pages; the extra wall time is what HTTP costs (parsing, routing, JSON, sockets).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { createPredictionService } from '../src/pipeline/service.js';
import { buildServer } from '../src/server/app.js';
import { openStores } from '../src/store/open.js';
import { concurrently, documentPages, type Benchmark } from './lib.js';

const CLIENTS = 4;

export const httpBenchmark: Benchmark = {
  name: 'http',
  describe: `${CLIENTS} clients posting pages to POST /v1/predict vs ${CLIENTS} callers of service.predict in-process, same pages`,
  async run({ quick }) {
    const pages = (await documentPages(quick ? 2 : 16, 6000)).map((page) => page.bytes);
    const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-'));
    const config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`, 'cache.enabled=false', 'server.logLevel="warn"'] });
    const pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
    const stores = openStores(config.data);
    const service = createPredictionService({ config, pipeline, store: stores.predictions, blobs: stores.blobs });
    const app = await buildServer({ config, service, store: stores.predictions, ready: () => true });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/predict`;
    const direct = () => concurrently(pages, CLIENTS, (page) => service.predict(page, {}));
    const overHttp = () =>
      concurrently(pages, CLIENTS, async (page) => {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(page) });
        if (response.status !== 200) throw new Error(`POST /v1/predict answered ${response.status}: ${await response.text()}`);
        await response.json();
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
      await app.close();
      await pipeline.close();
      await stores.predictions.close();
      await rm(dir, { recursive: true, force: true });
    }
    const count = pages.length * 2;
    return [
      { name: 'http.direct_pages_per_s', value: count / seconds.direct, unit: 'pages/s' },
      { name: 'http.http_pages_per_s', value: count / seconds.http, unit: 'pages/s' },
      { name: 'http.overhead_percent', value: (100 * (seconds.http - seconds.direct)) / seconds.direct, unit: '%', target: 10, atMost: true },
    ];
  },
};
