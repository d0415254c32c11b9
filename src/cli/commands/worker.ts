import type { Command } from 'commander';
import { createVisionops } from '../../app/visionops.js';
import { VisionopsError } from '../../core/errors.js';
import { requireUrl } from '../../queue/jobs.js';
import type { JobLog } from '../../queue/webhook.js';
import { startWorker } from '../../queue/worker.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface WorkerOptions extends ConfigOptions {
  concurrency?: string;
  data?: string;
}

/** One JSON line per event on stderr, as the server's log writes them. */
const log: JobLog = {
  info: (object, msg) => void process.stderr.write(`${JSON.stringify({ level: 'info', time: Date.now(), msg, ...object })}\n`),
  warn: (object, msg) => void process.stderr.write(`${JSON.stringify({ level: 'warn', time: Date.now(), msg, ...object, err: errorText(object.err) })}\n`),
};

/**
 * `visionops worker`: loads the pipelines, then records the images of jobs from the queue
 * (`queue.redis.url`) into the store (`data.*`), `--concurrency` at a time. On SIGTERM or SIGINT
 * it takes no new image, finishes those it holds (returning to the queue any still running after
 * `queue.worker.shutdownSeconds`), closes and exits 0; a second signal exits at once with 1.
 */
export function registerWorker(program: Command): void {
  withConfigOptions(program.command('worker'))
    .description('record the images of queued jobs (needs queue.redis.url)')
    .option('-j, --concurrency <n>', 'images held at once (sets queue.worker.concurrency)')
    .option('-d, --data <dir>', 'data directory for the store (sets data.dir)')
    .action(async (options: WorkerOptions) => {
      if (options.concurrency !== undefined && !/^[1-9]\d*$/.test(options.concurrency)) {
        throw new VisionopsError('INVALID_REQUEST', `--concurrency must be a whole number of at least 1, not "${options.concurrency}".`);
      }
      const config = commandConfig(options, { 'queue.worker.concurrency': options.concurrency, 'data.dir': asString(options.data) });
      requireUrl(config.queue);
      const visionops = await createVisionops(config, { scope: 'run' });
      const worker = await startWorker({ config: config.queue, services: visionops.services, blobs: visionops.stores.blobs, maxBytes: config.ingest.maxBytes, log }).catch(async (error: unknown) => {
        await visionops.close();
        throw error;
      });
      log.info({ pid: process.pid, concurrency: config.queue.worker.concurrency, pipelines: visionops.services.names }, 'worker ready');

      let stopping = false;
      const shutdown = async (signal: NodeJS.Signals) => {
        if (stopping) process.exit(1);
        stopping = true;
        log.info({ signal, seconds: config.queue.worker.shutdownSeconds }, 'worker shutting down: finishing the images it holds');
        try {
          await worker.close();
          await visionops.close();
        } catch (error) {
          log.warn({ err: error }, 'closing failed');
          process.exit(1);
        }
        log.info({}, 'worker shut down');
        process.exit(0);
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    });
}

function errorText(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);
}
