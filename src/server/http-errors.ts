import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isVisionopsError, type ErrorCode } from '../core/errors.js';
import { MAX_HEADER_BYTES, MAX_METADATA_BYTES } from './header-limits.js';

/** The one mapping from error codes to HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  IMAGE_TOO_LARGE: 413,
  TOO_MANY_FRAMES: 413,
  UNSUPPORTED_FORMAT: 415,
  CORRUPT_IMAGE: 422,
  EMPTY_BODY: 400,
  INVALID_METADATA: 400,
  INVALID_REQUEST: 400,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  UNKNOWN_EVENT: 400,
  UNKNOWN_PIPELINE: 400,
  INVALID_CONFIG: 500,
  MODEL_NOT_FOUND: 500,
  MODEL_LOAD_FAILED: 500,
  INFERENCE_FAILED: 500,
  PREDICTION_NOT_FOUND: 404,
  IDEMPOTENCY_KEY_REUSED: 422,
  TASK_NOT_FOUND: 404,
  TASK_NOT_CLAIMED: 409,
  TASK_ALREADY_ANSWERED: 409,
  LEASE_EXPIRED: 410,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  HOST_NOT_ALLOWED: 403,
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  STORE_UNAVAILABLE: 503,
  NOT_READY: 503,
  OVERLOADED: 503,
  BACKEND_UNAVAILABLE: 503,
  // The server cannot do jobs at all as configured (queue.redis.url is null): not a refusal for load.
  QUEUE_NOT_CONFIGURED: 501,
  QUEUE_FULL: 503,
  QUEUE_UNAVAILABLE: 503,
  JOB_NOT_FOUND: 404,
  // nginx's code for a client that closed the connection first: the answer reaches no one, the access log says why.
  CANCELLED: 499,
  // An edge client's own outbox (never a server's answer): Insufficient Storage names it.
  OUTBOX_FULL: 507,
  INVALID_REGIONS: 400,
  TOO_MANY_REGIONS: 413,
  POLICY_FORBIDS_ORIGINAL: 403,
  MODEL_VERSION_NOT_FOUND: 404,
  MODEL_VERSION_EXISTS: 409,
  MODEL_SIGNATURE_MISMATCH: 422,
  STAGE_CHANGE_REFUSED: 409,
  INTERNAL: 500,
};

/** The body of every error answer. */
export interface ErrorBody {
  /**
   * `problem`: a stable name for what was wrong, where one code covers many cases (a refused review answer's `BOX_OUTSIDE_IMAGE`, say).
   * `record`: the record an `Idempotency-Key` already names (IDEMPOTENCY_KEY_REUSED), so a client that lost its answer still finds it.
   */
  error: { code: ErrorCode; message: string; problem?: string; record?: string };
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
    const { problem, record } = error.details ?? {};
    const coded = answer(error.code, error.message);
    const http = { ...coded, body: { error: { ...coded.body.error, ...(typeof problem === 'string' ? { problem } : {}), ...(typeof record === 'string' ? { record } : {}) } } };
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

/**
 * Node's HTTP parser refuses some requests before fastify sees them: headers over the server's
 * limit, a request that does not arrive in time, bytes that are not HTTP. They are answered here in
 * the same `{error: {code, message}}` form as every other refusal, and the connection is closed.
 */
export function clientErrorHandler() {
  return function handleClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
    // A connection the client reset or that is already gone has no one to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, body } = clientErrorAnswer(error.code);
    this.log.info({ code: body.error.code, parser: error.code }, 'request refused before routing');
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const payload = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
    );
  };
}

function clientErrorAnswer(parserCode: string | undefined): HttpError {
  switch (parserCode) {
    case 'HPE_HEADER_OVERFLOW':
      return answer(
        'HEADERS_TOO_LARGE',
        `The request's headers are over ${MAX_HEADER_BYTES.toLocaleString('en-US')} bytes in all: ` +
          `X-Visionops-Metadata may hold up to ${MAX_METADATA_BYTES.toLocaleString('en-US')} bytes; keep the other headers short.`,
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return answer('REQUEST_TIMEOUT', 'The request did not arrive in time: send it again, whole.');
    default:
      return answer('INVALID_REQUEST', `The request is not valid HTTP/1.1 (${parserCode ?? 'unreadable'}): correct the client.`);
  }
}

export function answer(code: ErrorCode, message: string): HttpError {
  return { status: HTTP_STATUS[code], body: { error: { code, message } } };
}
