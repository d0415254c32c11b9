import type { FastifyInstance, FastifyReply } from 'fastify';
import { isVisionopsError, VisionopsError } from '../core/errors.js';
import type { MonitorMetrics } from '../monitor/metrics.js';
import type { IdempotentService } from '../pipeline/idempotency.js';
import type { PredictionServices } from '../pipeline/service.js';
import { REGIONS_PATH } from '../core/edge/regions.js';
import type { Admission } from './admission.js';


export interface GuardedDeps {
  admission: Admission;
  /** Throws STORE_UNAVAILABLE when the store does not answer (a cached ping). */
  storeUp: () => Promise<void>;
  metrics: MonitorMetrics;
}

/**
 * The services as the HTTP API runs them: the store checked first (a prediction that could not
 * be recorded runs no model), then a slot taken in the admission queue, held until the answer,
 * and the request's signal (client gone, or the shutdown deadline) passed to the stage runner.
 */
export function guardServices(services: PredictionServices, deps: GuardedDeps): PredictionServices {
  return { names: services.names, get: (name) => guard(services.get(name), deps) };
}

/** Runs `work` with a slot in the admission queue, on the slot's signal (the client's, or the shutdown deadline). */
export type Admit = <T>(clientSignal: AbortSignal, work: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** Admission alone, for work that records nothing (a model run over /v2): the store is not asked. */
export function admitter({ admission, metrics }: Omit<GuardedDeps, 'storeUp'>): Admit {
  return async (clientSignal, work) => {
    let slot;
    try {
      slot = await admission.enter(clientSignal);
    } catch (error) {
      count(error, metrics, clientSignal);
      throw error;
    }
    try {
      return await work(slot.signal);
    } catch (error) {
      count(error, metrics, clientSignal);
      throw error;
    } finally {
      slot.release();
    }
  };
}

function guard(service: IdempotentService, deps: GuardedDeps): IdempotentService {
  const admit = admitter(deps);
  async function admitted<T>(clientSignal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    await deps.storeUp();
    return admit(clientSignal, work);
  }
  return {
    ...service,
    predict: (bytes, source, listener, options = {}) =>
      admitted(options.signal ?? new AbortController().signal, (signal) => service.predict(bytes, source, listener, { ...options, signal })),
    predictOnce: (bytes, source, key, listener, signal = new AbortController().signal, regions) =>
      admitted(signal, (slotSignal) => service.predictOnce(bytes, source, key, listener, slotSignal, regions)),
  };
}

function count(error: unknown, metrics: MonitorMetrics, clientSignal: AbortSignal): void {
  if (!isVisionopsError(error)) return;
  if (error.code === 'OVERLOADED') metrics.shed.inc();
  if (error.code === 'CANCELLED') metrics.cancelled.inc({ reason: clientSignal.aborted ? 'client_gone' : 'shutdown' });
}

/** The routes whose work takes a slot in the admission queue: predictions (of a page or of its regions), and inference over /v2. */
const ADMITTED_ROUTES = new Set(['/v1/predict', REGIONS_PATH, '/v2/models/:model/infer', '/v2/models/:model/versions/:version/infer']);

/**
 * Refuses a prediction before its body is read when the admission queue is full, so that shedding
 * load costs no upload. The queue is asked again once the body is in (`guardServices`).
 */
export function shedWhenFull(app: FastifyInstance, admission: Admission, metrics: MonitorMetrics): void {
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'POST' || !admission.full || !ADMITTED_ROUTES.has(request.routeOptions.url ?? '')) return;
    metrics.shed.inc();
    throw admission.overloaded();
  });
}

/**
 * Aborts when the client closes the connection before its answer is sent, so the prediction stops
 * at its next stage instead of running for no one.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new VisionopsError('CANCELLED', 'The client closed the connection before the answer: the prediction was stopped and not recorded.'));
  });
  return controller.signal;
}

/**
 * Once `close` begins (shutdown): every answer closes its connection, so kept-alive clients do not
 * hold the close open, and predictions still running near the end of `seconds` are abandoned so
 * the close finishes in time. New requests meanwhile are answered 503 (fastify's return503OnClosing).
 */
export function drainOnClose(app: FastifyInstance, admission: Admission, seconds: number): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    setTimeout(() => admission.abandon(), abandonAfterSeconds(seconds) * 1000).unref();
    done();
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
  });
}

/**
 * When, within a shutdown of `shutdownSeconds`, work still running is abandoned: two seconds before
 * the end (half-way for a short one), leaving time for the abandoned predictions to reach their
 * next stage and for the models and stores to close.
 */
export function abandonAfterSeconds(shutdownSeconds: number): number {
  return Math.max(shutdownSeconds / 2, shutdownSeconds - 2);
}
