import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isVisionopsError, type ErrorCode } from '../core/errors.js';

/** The one mapping from error codes to HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  IMAGE_TOO_LARGE: 413,
  TOO_MANY_FRAMES: 413,
  UNSUPPORTED_FORMAT: 415,
  CORRUPT_IMAGE: 422,
  EMPTY_BODY: 400,
  INVALID_METADATA: 400,
  INVALID_REQUEST: 400,
  UNKNOWN_EVENT: 400,
  INVALID_CONFIG: 500,
  MODEL_NOT_FOUND: 500,
  MODEL_LOAD_FAILED: 500,
  INFERENCE_FAILED: 500,
  PREDICTION_NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  TASK_NOT_CLAIMED: 409,
  TASK_ALREADY_ANSWERED: 409,
  LEASE_EXPIRED: 410,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  STORE_UNAVAILABLE: 503,
  NOT_READY: 503,
  OVERLOADED: 503,
  INTERNAL: 500,
};

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export interface HttpError {
  status: number;
  body: ErrorBody;
  /** Whole seconds after which a retry may succeed, sent as `Retry-After` (a refusal for load, not for the request). */
  retryAfterSeconds?: number;
}

export interface ErrorContext {
  /** Set on routes that take an image upload: `ingest.maxBytes`, named when a body is refused for its size. */
  uploadMaxBytes?: number;
}

export const ACCEPTED_UPLOADS =
  'send the image as the raw request body with Content-Type image/* or application/octet-stream, ' +
  'or as multipart/form-data with the file in the field "image"';

/**
 * Turns anything thrown while serving a request into a status and an `{error: {code, message}}`
 * body: our own errors keep their code; the errors fastify and @fastify/multipart raise get the
 * code a client can act on; anything else is INTERNAL, without internals in the message.
 */
export function toHttpError(error: unknown, context: ErrorContext = {}): HttpError {
  if (isVisionopsError(error)) {
    const retryAfterSeconds = error.details?.retryAfterSeconds;
    const http = answer(error.code, error.message);
    return typeof retryAfterSeconds === 'number' ? { ...http, retryAfterSeconds } : http;
  }
  const upload = context.uploadMaxBytes !== undefined;
  switch ((error as { code?: unknown }).code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return upload
        ? answer(
            'IMAGE_TOO_LARGE',
            `The upload is over the limit of ${context.uploadMaxBytes?.toLocaleString('en-US')} bytes: ` +
              'send a smaller or more compressed file, or raise `ingest.maxBytes`.',
          )
        : answer('INVALID_REQUEST', 'The request body is larger than this route accepts: send less.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return upload
        ? answer('UNSUPPORTED_FORMAT', `This Content-Type is not accepted here: ${ACCEPTED_UPLOADS}.`)
        : answer('UNSUPPORTED_FORMAT', 'This Content-Type is not accepted here: send JSON with Content-Type application/json.');
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return answer('INVALID_REQUEST', 'A multipart request carries one file field "image" and at most one field "metadata" (a JSON object).');
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return answer('INVALID_REQUEST', `${(error as Error).message}: correct the request (see docs/api.md).`);
  }
  return answer('INTERNAL', 'The server failed to handle this request; the error is in its log. Retry, and report it if it persists.');
}

/**
 * A fastify error handler answering through `toHttpError`; failures of the server itself are
 * logged with their stack, refusals of a request in one line.
 */
export function errorHandler(context: ErrorContext = {}) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, retryAfterSeconds } = toHttpError(error, context);
    if (retryAfterSeconds !== undefined) reply.header('Retry-After', String(retryAfterSeconds));
    if (status >= 500 && retryAfterSeconds === undefined) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code }, 'request refused');
    return reply.status(status).send(body);
  };
}

export function answer(code: ErrorCode, message: string): HttpError {
  return { status: HTTP_STATUS[code], body: { error: { code, message } } };
}
