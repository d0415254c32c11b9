import { postToWebhooks, type WebhookDelivery } from '../monitor/webhooks.js';
import type { JobQueue } from './jobs.js';

export interface JobLog {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

/**
 * Tells a finished job's webhook its status (`{source, event: "job.finished", job}`), once: only
 * the worker whose item finished the job calls this. A webhook that still fails after its retries,
 * or a status that cannot be read, is logged; the status stays at GET /v1/jobs/:id.
 */
export async function notifyFinished(jobs: JobQueue, id: string, delivery: WebhookDelivery, log: JobLog): Promise<void> {
  try {
    const status = await jobs.status(id);
    log.info({ job: id, state: status.state, done: status.done, failed: status.failed }, 'job finished');
    const url = await jobs.webhookOf(id);
    if (url !== null) await postToWebhooks([url], { source: 'visionops', event: 'job.finished', job: status }, delivery, log, { job: id });
  } catch (error) {
    // The job is finished in Redis either way: only the announcement is lost.
    log.warn({ job: id, err: error }, 'finished job not announced');
  }
}
