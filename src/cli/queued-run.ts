import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { VisionopsError, type ErrorCode } from '../core/errors.js';
import type { JobStatus } from '../queue/jobs.js';
import { EXIT } from './exit-codes.js';
import { createProgress } from './progress.js';

export interface QueuedRunOptions {
  /** The API that takes the job, e.g. http://127.0.0.1:8080. */
  server: string;
  files: string[];
  pipeline?: string;
  webhook?: string;
  /** Sent as `Authorization: Bearer` when the API has keys on. */
  key?: string;
  /** How often the progress is read. */
  pollMs?: number;
}

/** Tries of a job the queue refuses as full (503 with Retry-After) before giving up. */
const FULL_TRIES = 20;

/**
 * `visionops run --queue`: the files submitted as one job to the API (`POST /v1/jobs`, uploaded,
 * so they need not be on the workers' storage), then its progress drawn until it finishes. A full
 * queue is waited out as its Retry-After says. Returns the exit code: 0 when every image was
 * recorded, 1 when some were dead-lettered (listed on stderr).
 */
export async function runQueued({ server, files, pipeline, webhook, key, pollMs = 500 }: QueuedRunOptions): Promise<number> {
  const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
  const id = await submit(server, files, headers, pipeline, webhook);
  process.stderr.write(`job ${id}: ${files.length} files queued on ${server}\n`);
  let status = await read(server, id, headers);
  const progress = createProgress(status.total);
  let shown = 0;
  try {
    for (;;) {
      for (; shown < status.done + status.failed; shown++) progress.tick(`job ${id}`);
      if (status.state === 'completed' || status.state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      status = await read(server, id, headers);
    }
  } finally {
    progress.stop();
  }
  for (const error of status.errors) process.stderr.write(`${error.name ?? '(unnamed)'}: ${error.code}: ${error.message}\n`);
  process.stdout.write(`${JSON.stringify({ job: id, state: status.state, total: status.total, done: status.done, failed: status.failed })}\n`);
  return status.failed > 0 ? EXIT.someFailed : EXIT.ok;
}

async function submit(server: string, files: string[], headers: Record<string, string>, pipeline?: string, webhook?: string): Promise<string> {
  const form = new FormData();
  if (pipeline !== undefined) form.append('pipeline', pipeline);
  if (webhook !== undefined) form.append('webhook', webhook);
  for (const file of files) form.append('image', new Blob([new Uint8Array(await readFile(file))]), basename(file));
  for (let tries = 1; ; tries++) {
    const response = await call(server, '/v1/jobs', { method: 'POST', body: form, headers });
    if (response.status === 202) return ((await response.json()) as { id: string }).id;
    const error = await errorOf(response);
    const retryAfter = Number(response.headers.get('retry-after'));
    if (error.code !== 'QUEUE_FULL' || tries >= FULL_TRIES || !(retryAfter > 0)) throw new VisionopsError(error.code, `The API refused the job: ${error.message}`);
    process.stderr.write(`the queue is full: trying again in ${retryAfter} s\n`);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
  }
}

async function read(server: string, id: string, headers: Record<string, string>): Promise<JobStatus> {
  const response = await call(server, `/v1/jobs/${id}`, { headers });
  if (!response.ok) {
    const error = await errorOf(response);
    throw new VisionopsError(error.code, `The API cannot tell job ${id}'s progress: ${error.message}`);
  }
  return (await response.json()) as JobStatus;
}

async function call(server: string, path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(new URL(path, server), init);
  } catch (error) {
    throw new VisionopsError('QUEUE_UNAVAILABLE', `The API at ${server} cannot be reached (${(error as Error).message}): start it (visionops serve) or give its address with --server.`, undefined, { cause: error });
  }
}

async function errorOf(response: Response): Promise<{ code: ErrorCode; message: string }> {
  const body = (await response.json().catch(() => null)) as { error?: { code: ErrorCode; message: string } } | null;
  return body?.error ?? { code: 'INTERNAL', message: `HTTP ${response.status}` };
}
