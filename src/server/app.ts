import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Monitor } from '../monitor/monitor.js';
import { configuredPipeline } from '../pipeline/pipelines.js';
import type { PredictionServices } from '../pipeline/service.js';
import type { PredictionStore } from '../store/store.js';
import { cachedPing } from '../store/ping-cache.js';
import { Admission } from './admission.js';
import { guardRoutes } from './auth.js';
import { MAX_HEADER_BYTES } from './header-limits.js';
import { checkHost } from './host-check.js';
import { answer, clientErrorHandler, errorHandler } from './http-errors.js';
import { admitter, drainOnClose, guardServices, shedWhenFull } from './overload.js';
import { refuseUnderPressure } from './pressure.js';
import { limitRate } from './rate-limit.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes, type ModelRouteOptions } from './routes/models.js';
import { jobRoutes, type JobRouteOptions } from './routes/jobs.js';
import { monitorRoutes } from './routes/monitor.js';
import { predictRoutes, toAnswer } from './routes/predict.js';
import { oipRoutes } from './routes/oip.js';
import { pipelineCatalog } from './oip/catalog.js';
import { predictionRoutes } from './routes/predictions.js';
import { reviewRoutes, type ReviewRouteOptions } from './routes/reviews.js';
import { webRoutes } from './routes/web.js';
import { sendSecurityHeaders } from './security-headers.js';

export interface ServerDeps {
  config: Config;
  /** One service per configured pipeline, chosen per request by `?pipeline=`. */
  services: PredictionServices;
  store: PredictionStore;
  /** True once the models are loaded, false again while the server drains on shutdown. */
  ready: () => boolean;
  /** The review queue's routes are served when this is given. */
  review?: Omit<ReviewRouteOptions, 'predictions' | 'config' | 'limits'>;
  /** Metrics, drift and alerts of this server's traffic. */
  monitor: Monitor;
  /** The model registry's routes are served when this is given. */
  models?: ModelRouteOptions;
  /** The job routes are served when this is given (answering QUEUE_NOT_CONFIGURED when its queue is null). */
  jobs?: Omit<JobRouteOptions, 'config' | 'services'>;
}

/**
 * The HTTP API: one plugin per group of routes, one error handler that answers every failure as
 * `{error: {code, message}}` with the status `http-errors.ts` gives its code.
 *
 * @example
 * Built by the composition root (src/app/visionops.ts), which owns every part it is given.
 *
 * @example
 * const app = await buildServer({ config, services, store, ready: () => true, monitor });
 * await app.listen({ host: config.server.host, port: config.server.port });
 */
export async function buildServer({ config, services, store, ready, monitor, review, models, jobs }: ServerDeps): Promise<FastifyInstance> {
  const { timeouts } = config.server;
  const app = Fastify({
    logger: { level: config.server.logLevel },
    // Node checks these every connectionsCheckingInterval, 30 s unless told: once a second, a late request is dropped on time.
    http: { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: timeouts.headersSeconds * 1000, connectionsCheckingInterval: 1000 },
    requestTimeout: timeouts.requestSeconds * 1000,
    connectionTimeout: timeouts.idleSeconds * 1000,
    keepAliveTimeout: timeouts.keepAliveSeconds * 1000,
    clientErrorHandler: clientErrorHandler(),
  });
  monitor.useLog(app.log);
  app.setErrorHandler(errorHandler());
  watchRequests(app, monitor);
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = answer('NOT_FOUND', `There is no route ${request.method} ${request.url}: see docs/api.md for the routes.`);
    return reply.status(status).send(body);
  });

  sendSecurityHeaders(app);
  checkHost(app, { boundHost: config.server.host, allowedHosts: config.server.allowedHosts });
  guardRoutes(app, config.auth);
  await limitRate(app, config.server.rateLimit);
  await refuseUnderPressure(app, config.server.pressure);
  const admission = new Admission(config.server.admission);
  shedWhenFull(app, admission, monitor.metrics);
  drainOnClose(app, admission, config.server.shutdownSeconds);
  const guarded = guardServices(services, { admission, storeUp: cachedPing(store), metrics: monitor.metrics });

  await app.register(healthRoutes, { store, ready });
  await app.register(predictRoutes, { config, services: guarded });
  await app.register(oipRoutes, { prefix: '/v2', config, models: pipelineCatalog(guarded, toAnswer, admitter({ admission, metrics: monitor.metrics })), store, ready });
  await app.register(predictionRoutes, { store });
  await app.register(monitorRoutes, { monitor });
  if (review !== undefined) await app.register(reviewRoutes, { ...review, predictions: store, config: config.review, limits: config.ingest });
  if (models !== undefined) await app.register(modelRoutes, models);
  if (jobs !== undefined) await app.register(jobRoutes, { ...jobs, config, services });
  // A device's capture goes to the default pipeline (POST /v1/predict/regions without ?pipeline=).
  await app.register(webRoutes, { reading: configuredPipeline(config).settings, policy: config.edge.policy });
  return app;
}

/**
 * Every answer's latency and status, and the code of every error answer, whichever plugin or
 * handler wrote it: the code is read back from the `{error: {code}}` body as it is sent.
 */
function watchRequests(app: FastifyInstance, monitor: Monitor): void {
  const errorCodes = new WeakMap<FastifyRequest, string>();
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      // The /v2 routes answer the protocol's {"error": "..."} and name the code in a header.
      const header = reply.getHeader('x-visionops-error-code');
      const code = errorCodeOf(payload) ?? (typeof header === 'string' ? header : null);
      if (code !== null) errorCodes.set(request, code);
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    monitor.recordRequest({
      method: request.method,
      // The route's pattern, not the URL, so ids and unknown paths do not each make a new series.
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
      errorCode: errorCodes.get(request) ?? null,
    });
  });
}

function errorCodeOf(payload: string): string | null {
  try {
    const code = (JSON.parse(payload) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}
