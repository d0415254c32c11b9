import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VisionopsError } from '../core/errors.js';
import type { RateLimitConfig } from './access-config.js';
import { holdsKey } from './auth.js';

/**
 * At most `max` requests per `windowSeconds` for each key holder, counted by the key's id (every
 * client sharing a key shares its budget), and for each client address when a request carries no
 * key or keys are off. Over it: 429 `RATE_LIMITED` with `Retry-After`. The count runs after the
 * access check, so it is by who the key proved the caller to be; a refused request is not counted.
 * Register before the routes: the limit is attached to each route as it is added.
 */
export async function limitRate(app: FastifyInstance, { max, windowSeconds }: RateLimitConfig): Promise<void> {
  if (max === 0) return;
  await app.register(rateLimit, {
    max,
    timeWindow: windowSeconds * 1000,
    keyGenerator: principalKey,
    errorResponseBuilder: (request, context) =>
      new VisionopsError(
        'RATE_LIMITED',
        `Too many requests from ${describe(request)}: at most ${context.max} every ${windowSeconds} s (server.rateLimit). Retry after ${Math.ceil(context.ttl / 1000)} s, as Retry-After says.`,
      ),
  });
}

function principalKey(request: FastifyRequest): string {
  return holdsKey(request.principal) ? `key:${request.principal.id}` : `address:${normalizeIP(request.ip)}`;
}

function describe(request: FastifyRequest): string {
  return holdsKey(request.principal) ? `the key "${request.principal.id}"` : `this address (${request.ip})`;
}
