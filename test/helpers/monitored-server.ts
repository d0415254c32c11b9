import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { Monitor } from '../../src/monitor/monitor.js';
import { createVisionops } from '../../src/app/visionops.js';
import type { Pipeline } from '../../src/pipeline/contract.js';
import type { Stores } from '../../src/store/open.js';
import { fixedReadingPipeline } from './pipelines.js';

export interface MonitoredServer {
  app: FastifyInstance;
  monitor: Monitor;
  stores: Stores;
  config: Config;
  close(): Promise<void>;
}

/** The server as `visionops serve` builds it (createVisionops), on the given pipeline. */
export async function startMonitoredServer(
  dataDir: string,
  sets: string[],
  now?: () => Date,
  pipeline: Pipeline = fixedReadingPipeline,
): Promise<MonitoredServer> {
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dataDir)}`, 'monitor.gpu.enabled=false', ...sets] });
  const visionops = await createVisionops(config, { overrides: { pipelines: [pipeline], now } });
  const app = await visionops.server();
  const { monitor, stores } = visionops;
  if (monitor === null) throw new Error('a served visionops has a monitor');
  return {
    app,
    monitor,
    stores,
    config,
    close: () => visionops.close(),
  };
}
