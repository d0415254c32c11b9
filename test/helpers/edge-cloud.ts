/**
 * A cloud for the edge tests, run as its own process (`node --import tsx test/helpers/edge-cloud.ts
 * <dataDir> <port> <delayMs | models>`) so a test can SIGKILL it mid-request and start it again over the
 * same SQLite database. Its pipeline reads every page as the same lines after `delayMs`, long
 * enough for a kill to land while an upload is under way; with `models`, the built-in document
 * pipeline reads what it is sent (pages or crops), which takes long enough of itself. Prints
 * `listening` once it accepts.
 */
import { createVisionops } from '../../src/app/visionops.js';
import { loadConfig } from '../../src/config/load.js';
import type { Pipeline } from '../../src/pipeline/contract.js';
import { fixedReadingPipeline } from './pipelines.js';

const [dataDir, port, reader] = process.argv.slice(2);
const slowReading: Pipeline = {
  ...fixedReadingPipeline,
  async run(...args) {
    await new Promise((done) => setTimeout(done, Number(reader)));
    return fixedReadingPipeline.run(...args);
  },
};
const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(dataDir)}`] });
const system = await createVisionops(config, { overrides: { ...(reader === 'models' ? {} : { pipelines: [slowReading] }), lab: [] } });
const app = await system.server();
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('listening\n');
