import { CAPTURE_POLICY_PATH, edgePolicySchema, linkPolicy, type EdgePolicy } from '../core/edge/policy.js';
import { REGIONS_PATH } from '../core/edge/regions.js';
import { EDGE_ROUTE_HEADER } from '../core/edge/route.js';
import type { OutboxItem } from './outbox.js';

/**
 * What the cloud said to one upload: a record (new or the one its key already made), or a failure
 * with its status (null: the cloud was not reached). A key the cloud holds a record for, made from
 * other bytes (the agent keys a capture by its file, and sends it otherwise after losing its
 * answers), is that record, replayed: its decision is then not said (null).
 */
export type UploadOutcome =
  | { ok: true; record: { id: string; decision: string | null }; replayed: boolean }
  | { ok: false; status: number | null; message: string; code?: string };

export interface CloudTarget {
  /** The server's base URL, e.g. http://cloud:8080. */
  url: string;
  /** `?pipeline=` to ask for; the server's first pipeline without one. */
  pipeline?: string;
  /** An API key with the `predict` scope, when the server has keys. */
  apiKey?: string;
  /** Longest wait for one answer. */
  timeoutMs: number;
}

/** POST /v1/predict (an image) or /v1/predict/regions (crops) with the item's Idempotency-Key and edge route; never throws. */
export async function upload(target: CloudTarget, item: OutboxItem, payload: Uint8Array): Promise<UploadOutcome> {
  const url = new URL(item.route.sent === 'crops' ? REGIONS_PATH : '/v1/predict', target.url);
  if (target.pipeline !== undefined) url.searchParams.set('pipeline', target.pipeline);
  const headers: Record<string, string> = {
    'content-type': item.contentType,
    'idempotency-key': item.key,
    [EDGE_ROUTE_HEADER.toLowerCase()]: JSON.stringify(item.route),
  };
  if (target.apiKey !== undefined) headers.authorization = `Bearer ${target.apiKey}`;
  try {
    const response = await fetch(url, { method: 'POST', headers, body: payload as Uint8Array<ArrayBuffer>, signal: AbortSignal.timeout(target.timeoutMs) });
    const body = (await response.json().catch(() => null)) as { id?: string; decision?: string; error?: { code?: string; message?: string; record?: string } } | null;
    if (response.ok && typeof body?.id === 'string') {
      return { ok: true, record: { id: body.id, decision: String(body.decision) }, replayed: response.headers.get('idempotent-replayed') === 'true' };
    }
    if (body?.error?.code === 'IDEMPOTENCY_KEY_REUSED' && typeof body.error.record === 'string') {
      return { ok: true, record: { id: body.error.record, decision: null }, replayed: true };
    }
    return { ok: false, status: response.status, message: body?.error?.message ?? `HTTP ${response.status}`, ...(body?.error?.code === undefined ? {} : { code: body.error.code }) };
  } catch (error) {
    return { ok: false, status: null, message: (error as Error).message };
  }
}

/**
 * `own` narrowed to what the deployment allows (`linkPolicy`, as the capture page narrows a link's
 * choice), with the deployment's policy as the cloud states it; null when the cloud does not answer
 * with one.
 */
export async function followDeployment(target: CloudTarget, own: EdgePolicy): Promise<{ policy: EdgePolicy; deployment: EdgePolicy } | null> {
  try {
    const response = await fetch(new URL(CAPTURE_POLICY_PATH, target.url), { signal: AbortSignal.timeout(target.timeoutMs) });
    const deployment = edgePolicySchema.safeParse(((await response.json()) as { policy?: unknown } | null)?.policy);
    return response.ok && deployment.success ? { policy: linkPolicy(deployment.data, own).policy, deployment: deployment.data } : null;
  } catch {
    return null;
  }
}
