import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { Quad } from '../../src/core/postprocess/geometry.js';
import { createMonitor, type Monitor } from '../../src/monitor/monitor.js';
import { decideDocument } from '../../src/core/decision/document.js';
import type { Pipeline } from '../../src/pipeline/contract.js';
import { createPredictionService } from '../../src/pipeline/service.js';
import type { TextLine } from '../../src/core/records/prediction.js';
import { buildServer } from '../../src/server/app.js';
import { openStores, type Stores } from '../../src/store/open.js';

/**
 * A pipeline that reads every page as the same two lines, in no time, for the monitor tests that
 * stream hundreds of pages through the gate, the descriptor and the drift tests (none of which
 * read the models' output). The metrics and dashboard tests run the real models.
 */
export const fixedReadingPipeline: Pipeline = {
  name: 'document',
  task: 'document',
  version: 'stub',
  models: [
    { role: 'detection', stage: 'detection', id: 'stub-det', version: '1', sha256: '0'.repeat(64), preprocessHash: '0'.repeat(64) },
    { role: 'recognition', stage: 'recognition', id: 'stub-rec', version: '1', sha256: '1'.repeat(64), preprocessHash: '1'.repeat(64) },
  ],
  stages: ['detection', 'recognition'],
  decision: { rule: (quality, result, settings) => decideDocument(quality, result, settings.decision), judged: (settings) => settings.decision },
  async run() {
    const box: Quad = [[0, 0], [10, 0], [10, 5], [0, 5]];
    const lines: TextLine[] = [
      { text: 'Invoice 20417 paid', confidence: 0.99 },
      { text: 'Total amount: 1250.40', confidence: 0.97 },
    ].map((line) => ({ ...line, box }));
    return { text: lines.map((line) => line.text).join('\n'), lines, orientation: { rotation: 0, source: 'none' } };
  },
  replay() {},
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
  pipeline: Pipeline = fixedReadingPipeline,
): Promise<MonitoredServer> {
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dataDir)}`, 'monitor.gpu.enabled=false', ...sets] });
  const stores = openStores(config.data);
  const monitor = await createMonitor({ config, store: stores.monitor, now });
  const service = monitor.instrument(
    createPredictionService({ config, pipeline, store: stores.predictions, blobs: stores.blobs, observers: [monitor.observer] }),
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
