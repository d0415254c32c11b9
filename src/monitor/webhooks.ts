import type { AlertState } from '../core/monitor/alerts.js';

export interface WebhookLog {
  warn(object: Record<string, unknown>, message: string): void;
}

/**
 * POSTs an alert transition as JSON to every URL. A webhook that fails or times out is logged and
 * not retried: the transition stays recorded in SQLite and in GET /v1/alerts.
 */
export async function sendWebhooks(urls: readonly string[], alert: AlertState, timeoutMs: number, log: WebhookLog): Promise<void> {
  await postToWebhooks(urls, { source: 'visionops', ...alert }, timeoutMs, log, { rule: alert.rule });
}

/**
 * POSTs `payload` as JSON to every URL (alert transitions, finished jobs). A webhook that fails or
 * times out is logged with `context` and not retried: what it announces stays readable from the API.
 */
export async function postToWebhooks(urls: readonly string[], payload: Record<string, unknown>, timeoutMs: number, log: WebhookLog, context: Record<string, unknown>): Promise<void> {
  const body = JSON.stringify(payload);
  await Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!response.ok) log.warn({ url, status: response.status, ...context }, 'webhook refused the notification');
      } catch (error) {
        log.warn({ url, err: error, ...context }, 'webhook unreachable');
      }
    }),
  );
}
