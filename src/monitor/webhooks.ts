import { randomUUID } from 'node:crypto';
import type { AlertState } from '../core/monitor/alerts.js';
import { backoffDelay, worthRetrying, type BackoffSettings } from '../core/edge/backoff.js';

export interface WebhookLog {
  warn(object: Record<string, unknown>, message: string): void;
}

/** How one notification is delivered: each try waits at most `timeoutMs`; a failed try is retried up to `attempts` tries in all. */
export interface WebhookDelivery {
  timeoutMs: number;
  attempts: number;
  backoff?: BackoffSettings;
}

/** Between tries: from one second, doubling, at most ten, with full jitter (receivers that were down for a moment come back to a trickle). */
const WEBHOOK_BACKOFF: BackoffSettings = { baseMs: 1000, maxMs: 10_000 };

/** The header naming one notification; a retried notification carries the same value, so a receiver can drop a repeat. */
export const DELIVERY_HEADER = 'x-visionops-delivery';

/** POSTs an alert transition as JSON to every URL; what fails after its retries stays recorded in the store and in GET /v1/alerts. */
export async function sendWebhooks(urls: readonly string[], alert: AlertState, delivery: WebhookDelivery, log: WebhookLog): Promise<void> {
  await postToWebhooks(urls, { source: 'visionops', ...alert }, delivery, log, { rule: alert.rule });
}

/**
 * POSTs `payload` as JSON to every URL (alert transitions, finished jobs). A network failure, a
 * timeout, 408, 429 or 5xx is tried again with backoff; another answer, or the last failure, is
 * logged with `context`: what the webhook announces stays readable from the API.
 */
export async function postToWebhooks(
  urls: readonly string[],
  payload: Record<string, unknown>,
  { timeoutMs, attempts, backoff = WEBHOOK_BACKOFF }: WebhookDelivery,
  log: WebhookLog,
  context: Record<string, unknown>,
): Promise<void> {
  const body = JSON.stringify(payload);
  await Promise.all(
    urls.map(async (url) => {
      const headers = { 'content-type': 'application/json', [DELIVERY_HEADER]: randomUUID() };
      for (let attempt = 1; ; attempt++) {
        let status: number | null = null;
        try {
          status = (await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) })).status;
          if (status >= 200 && status < 300) return;
        } catch (error) {
          if (attempt === attempts) log.warn({ url, err: error, attempts, ...context }, 'webhook unreachable');
        }
        if (attempt === attempts || !worthRetrying(status)) {
          if (status !== null) log.warn({ url, status, attempts: attempt, ...context }, 'webhook refused the notification');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, backoff)));
      }
    }),
  );
}
