import type { Command } from 'commander';
import { createVisionops } from '../../app/visionops.js';
import { VisionopsError } from '../../core/errors.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface ServeOptions extends ConfigOptions {
  port?: string;
  host?: string;
  data?: string;
}

/**
 * `visionops serve`: loads the models, then listens. On SIGINT or SIGTERM it reports not ready and
 * stops accepting, finishes the requests in flight (abandoning predictions still running near the
 * end of `server.shutdownSeconds`), closes the models and the stores, and exits 0; a second signal,
 * or a shutdown that overruns `server.shutdownSeconds`, exits at once with 1.
 */
export function registerServe(program: Command): void {
  withConfigOptions(program.command('serve'))
    .description('serve the HTTP API')
    .option('-p, --port <n>', 'port to listen on (sets server.port)')
    .option('-H, --host <host>', 'address to listen on (sets server.host)')
    .option('-d, --data <dir>', 'data directory for the store (sets data.dir)')
    .action(async (options: ServeOptions) => {
      const config = commandConfig(options, {
        'server.port': options.port,
        'server.host': asString(options.host),
        'data.dir': asString(options.data),
      });
      const visionops = await createVisionops(config);
      let accepting = true;
      const app = await visionops.server({ ready: () => accepting });
      try {
        await app.listen({ host: config.server.host, port: config.server.port });
      } catch (error) {
        await visionops.close();
        throw new VisionopsError(
          'INVALID_CONFIG',
          `Cannot listen on ${config.server.host}:${config.server.port} (${(error as Error).message}): ` +
            'stop what holds that port, or choose another with --port or --set server.port=N.',
          undefined,
          { cause: error },
        );
      }

      let stopping = false;
      const shutdown = async (signal: NodeJS.Signals) => {
        if (stopping) {
          app.log.warn({ signal }, 'second signal: exiting at once');
          process.exit(1);
        }
        stopping = true;
        accepting = false;
        const seconds = config.server.shutdownSeconds;
        app.log.info({ signal, seconds }, 'shutting down');
        setTimeout(() => {
          app.log.error({ seconds }, 'shutdown overran server.shutdownSeconds: exiting at once');
          process.exit(1);
        }, seconds * 1000).unref();
        try {
          await visionops.close();
        } catch (error) {
          app.log.error({ err: error }, 'closing failed');
          process.exit(1);
        }
        app.log.info('shut down');
        // Whatever a closed part left scheduled (a pool's timer, a worker) must not hold the exit.
        process.exit(0);
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    });
}
