import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { Quad } from '../../src/core/postprocess/geometry.js';
import { createMonitor, type Monitor } from '../../src/monitor/monitor.js';
import type { DocumentPipeline } from '../../src/pipeline/document.js';
import { createPredictionService } from '../../src/pipeline/service.js';
import type { TextLine } from '../../src/core/records/prediction.js';
import { buildServer } from '../../src/server/app.js';
import { openStores, type Stores } from '../../src/store/open.js';

/**
 * A pipeline that reads every page as the same two lines, in no time, for the monitor tests that
 * stream hundreds of pages through the gate, the descriptor and the drift tests (none of which
 * read the models' output). The metrics and dashboard tests run the real models.
 */
export const fixedReadingPipeline: DocumentPipeline = {
  id: 'document',
  version: 'stub',
  models: [
    { role: 'detection', id: 'stub-det', version: '1', sha256: '0'.repeat(64), preprocessHash: '0'.repeat(64) },
    { role: 'recognition', id: 'stub-rec', version: '1', sha256: '1'.repeat(64), preprocessHash: '1'.repeat(64) },
  ],
  async read() {
    const box: Quad = [[0, 0], [10, 0], [10, 5], [0, 5]];
    const lines: TextLine[] = [
      { text: 'Invoice 20417 paid', confidence: 0.99, box },
      { text: 'Total amount: 1250.40', confidence: 0.97, box },
    ];
    return { result: { text: 'Invoice 20417 paid\nTotal amount: 1250.40', lines, orientation: { rotation: 0, source: 'none' } }, timings: { detection: 4, recognition: 2 } };
  },
  async close() {},
};

export interface MonitoredServer {
  app: FastifyInstance;
  monitor: Monitor;
  stores: Stores;
  config: Config;
  close(): Promise<void>;
}

/** The server as `visionops serve` wires it (monitor observing and instrumenting the service), on the given pipeline. */
export async function startMonitoredServer(
  dataDir: string,
  sets: string[],
  now?: () => Date,
  pipeline: DocumentPipeline = fixedReadingPipeline,
): Promise<MonitoredServer> {
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dataDir)}`, 'monitor.gpu.enabled=false', ...sets] });
  const stores = openStores(config.data);
  const monitor = await createMonitor({ config, store: stores.monitor, now });
  const service = monitor.instrument(
    createPredictionService({ config, pipeline, store: stores.predictions, blobs: stores.blobs, observers: [monitor.observer] }),
    pipeline,
  );
  const app = await buildServer({ config, service, store: stores.predictions, ready: () => true, monitor });
  return {
    app,
    monitor,
    stores,
    config,
    async close() {
      await app.close();
      await monitor.close();
      await stores.close();
    },
  };
}
