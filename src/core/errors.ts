/**
 * The one error family of visionops. Every failure a caller can act on carries a stable `code`
 * and a message that says what to do; `server/http-errors.ts` maps codes to HTTP statuses.
 */
export const ERROR_CODES = [
  'IMAGE_TOO_LARGE',
  'TOO_MANY_FRAMES',
  'UNSUPPORTED_FORMAT',
  'CORRUPT_IMAGE',
  'EMPTY_BODY',
  'INVALID_METADATA',
  'INVALID_REQUEST',
  'HEADERS_TOO_LARGE',
  'REQUEST_TIMEOUT',
  'UNKNOWN_EVENT',
  'UNKNOWN_PIPELINE',
  'INVALID_CONFIG',
  'MODEL_NOT_FOUND',
  'MODEL_LOAD_FAILED',
  'INFERENCE_FAILED',
  'PREDICTION_NOT_FOUND',
  'IDEMPOTENCY_KEY_REUSED',
  'TASK_NOT_FOUND',
  'TASK_NOT_CLAIMED',
  'TASK_ALREADY_ANSWERED',
  'LEASE_EXPIRED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'HOST_NOT_ALLOWED',
  'RATE_LIMITED',
  'NOT_FOUND',
  'STORE_UNAVAILABLE',
  'NOT_READY',
  'OVERLOADED',
  'BACKEND_UNAVAILABLE',
  'QUEUE_NOT_CONFIGURED',
  'QUEUE_FULL',
  'QUEUE_UNAVAILABLE',
  'JOB_NOT_FOUND',
  'CANCELLED',
  'OUTBOX_FULL',
  'INVALID_REGIONS',
  'TOO_MANY_REGIONS',
  'POLICY_FORBIDS_ORIGINAL',
  'MODEL_VERSION_NOT_FOUND',
  'MODEL_VERSION_EXISTS',
  'MODEL_SIGNATURE_MISMATCH',
  'STAGE_CHANGE_REFUSED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class VisionopsError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VisionopsError';
    this.code = code;
    this.details = details;
  }
}

export function isVisionopsError(error: unknown): error is VisionopsError {
  return error instanceof VisionopsError;
}
