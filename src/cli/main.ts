#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isVisionopsError } from '../core/errors.js';
import { blockUnacceptedLoaders } from '../image/decode.js';
import { registerCalibrateGate } from './commands/calibrate-gate.js';
import { registerCheck } from './commands/check.js';
import { registerConfig } from './commands/config.js';
import { registerEdge } from './commands/edge.js';
import { registerExport } from './commands/export.js';
import { registerKey } from './commands/key.js';
import { registerParity } from './commands/parity.js';
import { registerPipelines } from './commands/pipelines.js';
import { registerLineage } from './commands/lineage.js';
import { registerModels } from './commands/models.js';
import { registerQuantize } from './commands/quantize.js';
import { registerProfile } from './commands/profile.js';
import { registerRun } from './commands/run.js';
import { registerServe } from './commands/serve.js';
import { registerWorker } from './commands/worker.js';
import { EXIT } from './exit-codes.js';

// src/cli/main.ts under tsx and dist/cli/main.js once built sit equally deep below package.json.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

blockUnacceptedLoaders();

const program = new Command('visionops')
  .description('Computer vision in production: quality gate, versioned models, decisions and lineage.')
  .version(version)
  .exitOverride();
registerServe(program);
registerRun(program);
registerCheck(program);
registerConfig(program);
registerKey(program);
registerExport(program);
registerQuantize(program);
registerProfile(program);
registerCalibrateGate(program);
registerPipelines(program);
registerParity(program);
registerEdge(program);
registerModels(program);
registerLineage(program);
registerWorker(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = fail(error);
}

function fail(error: unknown): number {
  // Commander has printed its own message (usage, --help, --version) already.
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.cannotRun;
  if (isVisionopsError(error)) process.stderr.write(`visionops: ${error.code}: ${error.message}\n`);
  else process.stderr.write(`visionops: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.cannotRun;
}
