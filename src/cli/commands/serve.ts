import type { Command } from 'commander';
import { VisionopsError } from '../../core/errors.js';
import { createMonitor } from '../../monitor/monitor.js';
import { loadDocumentPipeline } from '../../pipeline/document.js';
import { performanceMetrics } from '../../pipeline/performance-metrics.js';
import { createPredictionService } from '../../pipeline/service.js';
import { modelsDirOf } from '../../registry/local-models.js';
import { createReviewObserver } from '../../review/queue.js';
import { builtinManifests } from '../../runtime/builtin.js';
import { buildServer } from '../../server/app.js';
import { openStores } from '../../store/open.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';
import { openSharedCache } from '../shared-cache.js';

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
      const stores = openStores(config.data);
      const monitor = await createMonitor({ config, store: stores.monitor });
      const reviewObserver = createReviewObserver({ reviews: stores.reviews, blobs: stores.blobs, auditRate: config.review.auditRate });
      const performanceCounters = performanceMetrics(monitor.metrics.registry);
      const pipeline = await loadDocumentPipeline(config.pipeline, config.runtime, { modelsDir: modelsDirOf(config.data.dir), onBatch: performanceCounters.onBatch });
      const shared = openSharedCache(config);
      const service = monitor.instrument(
        createPredictionService({
          config,
          pipeline,
          store: stores.predictions,
          blobs: stores.blobs,
          shared,
          observers: [monitor.observer, performanceCounters.observer, reviewObserver],
        }),
      );
      const lab = Object.values(await builtinManifests());
      let accepting = true;
      const app = await buildServer({
        config,
        service,
        store: stores.predictions,
        ready: () => accepting,
        monitor,
        review: {
          reviews: stores.reviews,
          blobs: stores.blobs,
          lab,
          onAnswered: (task, figures) => {
            monitor.recordReview({ modelVersion: task.modelVersion, overridden: task.answer?.verdict === 'correct' });
            monitor.setAccuracy({ modelVersion: task.modelVersion, production: figures.production.lineAccuracy ?? undefined, lab: figures.lab.lineAccuracy ?? undefined });
          },
        },
      });
      try {
        await app.listen({ host: config.server.host, port: config.server.port });
      } catch (error) {
        await Promise.all([pipeline.close(), monitor.close(), shared?.close()]);
        await stores.close();
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
        await app.close();
        await pipeline.close();
        await monitor.close();
        await shared?.close();
        await stores.close();
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
