/**
 * A cloud for the edge tests, run as its own process (`node --import tsx test/helpers/edge-cloud.ts
 * <dataDir> <port> <delayMs>`) so a test can SIGKILL it mid-request and start it again over the
 * same SQLite database. Its pipeline reads every page as the same lines after `delayMs`, long
 * enough for a kill to land while an upload is under way. Prints `listening` once it accepts.
 */
import { createVisionops } from '../../src/app/visionops.js';
import { loadConfig } from '../../src/config/load.js';
import type { Pipeline } from '../../src/pipeline/contract.js';
import { fixedReadingPipeline } from './pipelines.js';

const [dataDir, port, delayMs] = process.argv.slice(2);
const slowReading: Pipeline = {
  ...fixedReadingPipeline,
  async run(...args) {
    await new Promise((done) => setTimeout(done, Number(delayMs)));
    return fixedReadingPipeline.run(...args);
  },
};
const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dataDir)}`] });
const system = await createVisionops(config, { overrides: { pipelines: [slowReading], lab: [] } });
const app = await system.server();
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('listening\n');
