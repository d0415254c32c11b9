import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createVisionops } from '../../app/visionops.js';
import { isVisionopsError, VisionopsError } from '../../core/errors.js';
import { batchKey, sha256Of } from '../../pipeline/idempotency.js';
import { configuredPipeline } from '../../pipeline/pipelines.js';
import type { PredictionRecord } from '../../core/records/prediction.js';
import { inOrderConcurrently } from '../concurrent.js';
import { EXIT } from '../exit-codes.js';
import { collectFiles } from '../files.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';
import { createProgress } from '../progress.js';
import { runQueued } from '../queued-run.js';
import { ResultsFile } from '../results-file.js';
import { RunSummary } from '../summary.js';

interface RunOptions extends ConfigOptions {
  out?: string;
  data?: string;
  concurrency: string;
  pipeline?: string;
  queue?: boolean;
  server?: string;
  webhook?: string;
}

/** Images under way at once: enough that the next ones decode and pass the gate while the models read the current ones, and that their lines fill batches. */
const DEFAULT_CONCURRENCY = 4;

type Outcome = { record: PredictionRecord; replayed: boolean } | { error: { code: string; message: string } };

/**
 * `visionops run`: the whole path in this process, each record saved to the store under the data
 * directory. Several files are under way at once (`--concurrency`), so decoding overlaps
 * inference and lines of different pages share batches; results are written in the files' order.
 * A file that fails is reported with its code and the run goes on; a store that goes away stops
 * it, since nothing could be recorded any more.
 *
 * A run resumes: each file is recorded under a key made of its content and the pipeline's scope,
 * looked up before anything runs, so files already recorded by an earlier run (killed, or
 * complete) are skipped and reported as such, and `--out` gains only the lines it lacks.
 *
 * With `--queue` nothing runs here: the files go to the API as one job for `visionops worker`s
 * (see queued-run.ts), with `VISIONOPS_KEY` as its bearer key when the API has keys on.
 */
export function registerRun(program: Command): void {
  withConfigOptions(program.command('run'))
    .description('predict images in this process and record them; prints a summary')
    .argument('<paths...>', 'image files, or folders to search for images')
    .option('-o, --out <file>', 'also write one JSON line per file: {file, record} or {file, error}; kept across runs, one line per file')
    .option('-d, --data <dir>', 'data directory for the store (sets data.dir)')
    .option('-j, --concurrency <n>', 'images under way at once', String(DEFAULT_CONCURRENCY))
    .option('--pipeline <name>', 'one of the configured pipelines (default: the first)')
    .option('--queue', 'submit the files as one job to the API (POST /v1/jobs) for `visionops worker`s, and show its progress')
    .option('--server <url>', 'with --queue: the API (default: http://server.host:server.port of the configuration)')
    .option('--webhook <url>', 'with --queue: POSTed the job when it finishes')
    .action(async (paths: string[], options: RunOptions) => {
      if (options.queue === true) {
        if (options.out !== undefined) throw new VisionopsError('INVALID_REQUEST', '--out is for runs in this process: with --queue the records are listed by GET /v1/jobs/:id.');
        const config = commandConfig(options);
        const server = options.server ?? `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${config.server.port}`;
        const files = await collectFiles(paths);
        process.exitCode = await runQueued({ server, files, pipeline: options.pipeline, webhook: options.webhook, key: process.env.VISIONOPS_KEY });
        return;
      }
      const concurrency = Number(options.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new VisionopsError('INVALID_REQUEST', `--concurrency must be a whole number of at least 1, not "${options.concurrency}".`);
      }
      const config = commandConfig(options, { 'data.dir': asString(options.data) });
      configuredPipeline(config, options.pipeline);
      const files = await collectFiles(paths);
      const out = options.out === undefined ? null : await ResultsFile.open(options.out);
      const started = performance.now();
      const visionops = await createVisionops(config, { scope: 'run' }).catch(async (error: unknown) => {
        await out?.close();
        throw error;
      });
      const service = visionops.services.get(options.pipeline);
      const summary = new RunSummary();
      const progress = createProgress(files.length);
      const predict = async (file: string): Promise<Outcome> => {
        try {
          const bytes = await readFile(file);
          return await service.predictOnce(bytes, { channel: 'cli', file: resolve(file) }, batchKey(service.scope, sha256Of(bytes)));
        } catch (error) {
          if (!isVisionopsError(error) || error.code === 'STORE_UNAVAILABLE') throw error;
          return { error: { code: error.code, message: error.message } };
        }
      };
      try {
        await inOrderConcurrently(files, concurrency, predict, async (outcome, file) => {
          if ('record' in outcome) {
            if (outcome.replayed) summary.recordSkipped(outcome.record.decision);
            else summary.recordPrediction(outcome.record.decision, outcome.record.timings.total);
            await out?.write({ file, record: outcome.record });
          } else {
            summary.recordError(outcome.error.code);
            progress.note(`${file}: ${outcome.error.code}: ${outcome.error.message}`);
            await out?.write({ file, error: outcome.error });
          }
          progress.tick(file, summary.skipped);
        });
      } finally {
        progress.stop();
        await out?.close();
        await visionops.close();
      }
      process.stdout.write(`${summary.format(files.length, (performance.now() - started) / 1000)}\n`);
      process.exitCode = summary.errorCount > 0 ? EXIT.someFailed : EXIT.ok;
    });
}
