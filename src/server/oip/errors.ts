import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toHttpError } from '../http-errors.js';

/**
 * The protocol's error answer, `{"error": "<message>"}`, with the status the one table
 * (http-errors.ts) gives the error's code: 400 for a malformed request, 404 for an unknown model,
 * 503 when not ready or overloaded (with Retry-After), 500 when the model failed.
 */
export function oipErrorHandler() {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, retryAfterSeconds } = toHttpError(error);
    if (retryAfterSeconds !== undefined) reply.header('Retry-After', String(retryAfterSeconds));
    if (status >= 500 && retryAfterSeconds === undefined) request.log.error({ err: error }, 'inference request failed');
    else request.log.info({ code: body.error.code }, 'inference request refused');
    return reply.status(status).header('X-Visionops-Error-Code', body.error.code).send({ error: body.error.message });
  };
}
