/** Retry delays for an outbox: exponential from `baseMs`, capped at `maxMs`, with full jitter. */
export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { baseMs: 500, maxMs: 60_000 };

/**
 * The wait before retry number `attempt` (1 for the first retry): uniform in [0, min(max, base * 2^(attempt-1))].
 * Full jitter spreads devices that lost the cloud together, so they do not all come back at once.
 */
export function backoffDelay(attempt: number, settings: BackoffSettings = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.maxMs, settings.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/**
 * Whether an upload that got `status` may succeed later: the cloud away or busy (network failure,
 * 408, 429, 5xx). A 4xx is the capture's own fault and is not retried.
 */
export function worthRetrying(status: number | null): boolean {
  return status === null || status === 408 || status === 429 || status >= 500;
}
