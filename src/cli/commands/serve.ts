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
 * `visionops serve`: loads the models, then listens. On SIGINT or SIGTERM it reports not ready,
 * finishes the requests in flight, and closes the models and the store.
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

      const shutdown = async (signal: NodeJS.Signals) => {
        accepting = false;
        app.log.info({ signal }, 'shutting down');
        await visionops.close();
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
