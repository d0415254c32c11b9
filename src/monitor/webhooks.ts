import type { AlertState } from '../core/monitor/alerts.js';

export interface WebhookLog {
  warn(object: Record<string, unknown>, message: string): void;
}

/**
 * POSTs an alert transition as JSON to every URL. A webhook that fails or times out is logged and
 * not retried: the transition stays recorded in SQLite and in GET /v1/alerts.
 */
export async function sendWebhooks(urls: readonly string[], alert: AlertState, timeoutMs: number, log: WebhookLog): Promise<void> {
  const body = JSON.stringify({ source: 'visionops', ...alert });
  await Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!response.ok) log.warn({ url, status: response.status, rule: alert.rule }, 'alert webhook refused the alert');
      } catch (error) {
        log.warn({ url, err: error, rule: alert.rule }, 'alert webhook unreachable');
      }
    }),
  );
}
