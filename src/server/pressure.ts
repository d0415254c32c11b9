import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VisionopsError } from '../core/errors.js';
import type { PressureConfig } from './overload-config.js';

/** Liveness and the metrics keep answering under pressure: they are how an operator sees it. */
const ALWAYS_ANSWERED = new Set(['/healthz', '/metrics']);

/**
 * The process's own health, beside the admission queue (which bounds predictions only): when the
 * event loop lags (every route slows, whatever its cause) or memory is over its configured bound,
 * every request but liveness and the metrics is refused with 503 OVERLOADED and Retry-After, through
 * @fastify/under-pressure. Register before the routes.
 */
export async function refuseUnderPressure(app: FastifyInstance, pressure: PressureConfig): Promise<void> {
  const { maxEventLoopDelayMs, maxHeapUsedBytes, maxRssBytes, retryAfterSeconds } = pressure;
  if (maxEventLoopDelayMs === 0 && maxHeapUsedBytes === 0 && maxRssBytes === 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    maxHeapUsedBytes,
    maxRssBytes,
    async pressureHandler(request: FastifyRequest, _reply, type: string, value: number | undefined) {
      if (ALWAYS_ANSWERED.has(request.routeOptions.url ?? '')) return;
      throw new VisionopsError(
        'OVERLOADED',
        `The server is under pressure (${type} at ${Math.round(value ?? 0)}; server.pressure): retry after ${retryAfterSeconds} s, as Retry-After says.`,
        { retryAfterSeconds },
      );
    },
  });
}
