import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { PredictionService } from '../pipeline/service.js';
import type { PredictionStore } from '../store/store.js';
import { authHook } from './auth.js';
import { answer, errorHandler } from './http-errors.js';
import { healthRoutes } from './routes/health.js';
import { predictRoutes } from './routes/predict.js';
import { predictionRoutes } from './routes/predictions.js';
import { reviewRoutes, type ReviewRouteOptions } from './routes/reviews.js';
import { webRoutes } from './routes/web.js';

export interface ServerDeps {
  config: Config;
  service: PredictionService;
  store: PredictionStore;
  /** True once the models are loaded, false again while the server drains on shutdown. */
  ready: () => boolean;
  /** The review queue's routes are served when this is given. */
  review?: Omit<ReviewRouteOptions, 'predictions' | 'config'>;
}

/**
 * The HTTP API: one plugin per group of routes, one error handler that answers every failure as
 * `{error: {code, message}}` with the status `http-errors.ts` gives its code.
 *
 * @example
 * const app = await buildServer({ config, service, store, ready: () => true });
 * await app.listen({ host: config.server.host, port: config.server.port });
 */
export async function buildServer({ config, service, store, ready, review }: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: config.server.logLevel } });
  app.setErrorHandler(errorHandler());
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = answer('NOT_FOUND', `There is no route ${request.method} ${request.url}: see docs/api.md for the routes.`);
    return reply.status(status).send(body);
  });

  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', authHook(config.auth));

  await app.register(healthRoutes, { store, ready });
  await app.register(predictRoutes, { config, service });
  await app.register(predictionRoutes, { store });
  if (review !== undefined) await app.register(reviewRoutes, { ...review, predictions: store, config: config.review });
  await app.register(webRoutes);
  return app;
}
