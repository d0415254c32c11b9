import type { FastifyPluginAsync } from 'fastify';
import { isVisionopsError } from '../../core/errors.js';
import type { PredictionStore } from '../../store/store.js';
import { answer } from '../http-errors.js';

export interface HealthOptions {
  store: PredictionStore;
  ready: () => boolean;
}

/** Liveness (`/healthz`: the process answers) apart from readiness (`/readyz`: it can serve predictions). */
export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { store, ready }) => {
  app.get('/healthz', { config: { scope: 'public' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { scope: 'public' } }, async (request, reply) => {
    if (!ready()) {
      const { status, body } = answer('NOT_READY', 'The models are not loaded yet, or the server is shutting down: retry in a few seconds.');
      return reply.status(status).send(body);
    }
    try {
      await store.ping();
    } catch (error) {
      request.log.warn({ err: error }, 'store does not answer');
      const reason = isVisionopsError(error) ? error.message : 'it failed to answer';
      const { status, body } = answer('NOT_READY', `The prediction store does not answer: ${reason}`);
      return reply.status(status).send(body);
    }
    return { status: 'ready' };
  });
};
