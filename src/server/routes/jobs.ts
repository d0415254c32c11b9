import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import { isVisionopsError, VisionopsError } from '../../core/errors.js';
import { sha256Of } from '../../pipeline/idempotency.js';
import type { PredictionServices } from '../../pipeline/service.js';
import { requireUrl, type JobQueue, type JobStatus, type SubmittedImage } from '../../queue/jobs.js';
import { readSharedFile } from '../../queue/paths.js';
import type { BlobStore } from '../../store/store.js';
import { EventStream } from '../event-stream.js';
import { errorHandler } from '../http-errors.js';

export interface JobRouteOptions {
  config: Config;
  services: PredictionServices;
  blobs: BlobStore;
  /** Null when `queue.redis.url` is: every job route then answers QUEUE_NOT_CONFIGURED. */
  jobs: JobQueue | null;
  /** How often the event stream reads a job's progress. */
  pollMs?: number;
}

const webhook = z.url({ protocol: /^https?$/ });
const jsonJob = z
  .object({
    paths: z.array(z.string().min(1)).min(1),
    pipeline: z.string().min(1).optional(),
    webhook: webhook.optional(),
  })
  .strict();
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Submitted {
  images: SubmittedImage[];
  pipeline: string | undefined;
  webhook: string | undefined;
}

/**
 * Jobs: `POST /v1/jobs` takes many images (multipart fields `image`, or JSON `{"paths": [...]}`
 * under `queue.pathsRoot`; optional `pipeline` and `webhook`) and answers `202 {id}` once they are
 * queued; `GET /v1/jobs/:id` its progress and, once finished, its records; `GET
 * /v1/jobs/:id/events` the same as Server-Sent Events. A full queue refuses a job before its body
 * is read: 503 QUEUE_FULL with Retry-After.
 */
export const jobRoutes: FastifyPluginAsync<JobRouteOptions> = async (app, { config, services, blobs, jobs, pollMs = 500 }) => {
  const { maxBytes } = config.ingest;
  app.setErrorHandler(errorHandler({ uploadMaxBytes: maxBytes }));
  await app.register(multipart, { limits: { fileSize: maxBytes, files: config.queue.maxImagesPerJob, fields: 2, parts: config.queue.maxImagesPerJob + 2, fieldSize: 2048 } });
  const queue = (): JobQueue => {
    if (jobs === null) requireUrl(config.queue);
    return jobs as JobQueue;
  };

  const refuseEarly = async () => void (await queue().admit(1));
  app.post('/v1/jobs', { config: { scope: 'predict' }, onRequest: refuseEarly, bodyLimit: 1024 * 1024 }, async (request, reply) => {
    const submitted = request.isMultipart() ? await readUploads(request, blobs, config.queue.maxImagesPerJob) : await readPaths(request.body, config.queue.pathsRoot, maxBytes);
    const { pipeline } = services.get(submitted.pipeline);
    const id = await queue().submit({ pipeline: { name: pipeline.name, version: pipeline.version }, images: submitted.images, webhook: submitted.webhook });
    request.log.info({ job: id, images: submitted.images.length, pipeline: pipeline.name }, 'job queued');
    return reply.status(202).header('location', `/v1/jobs/${id}`).send({ id });
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', { config: { scope: 'predict' } }, async (request) => queue().status(jobId(request.params.id)));

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/events', { config: { scope: 'predict' } }, async (request, reply) => {
    const id = jobId(request.params.id);
    let status = await queue().status(id);
    const stream = new EventStream(reply);
    let gone = false;
    reply.raw.once('close', () => (gone = true));
    let last = '';
    for (;;) {
      const progress = { state: status.state, total: status.total, done: status.done, failed: status.failed };
      if (JSON.stringify(progress) !== last) {
        last = JSON.stringify(progress);
        stream.send('progress', progress);
      }
      if (finished(status) || gone) break;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      try {
        status = await queue().status(id);
      } catch (error) {
        stream.send('error', { code: isVisionopsError(error) ? error.code : 'INTERNAL', message: (error as Error).message });
        break;
      }
    }
    if (finished(status)) stream.send('finished', status);
    stream.end();
    return reply;
  });
};

function finished(status: JobStatus): boolean {
  return status.state === 'completed' || status.state === 'failed';
}

function jobId(id: string): string {
  if (!JOB_ID.test(id)) throw new VisionopsError('JOB_NOT_FOUND', `"${id}" is not a job id: use the id POST /v1/jobs answered.`, { id });
  return id;
}

async function readPaths(body: unknown, root: string | null, maxBytes: number): Promise<Submitted> {
  const parsed = jsonJob.safeParse(body);
  if (!parsed.success) {
    throw new VisionopsError('INVALID_REQUEST', `Send {"paths": ["a.jpg", ...], "pipeline"?: NAME, "webhook"?: "https://..."} as JSON, or multipart fields "image": ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ')}.`);
  }
  const images: SubmittedImage[] = [];
  for (const path of parsed.data.paths) {
    const bytes = await readSharedFile(root, path, maxBytes);
    images.push({ sha256: sha256Of(bytes), source: { path }, name: path });
  }
  return { images, pipeline: parsed.data.pipeline, webhook: parsed.data.webhook };
}

/** Each multipart `image` kept in the blob store the workers share, as it arrives. */
async function readUploads(request: FastifyRequest, blobs: BlobStore, maxImages: number): Promise<Submitted> {
  try {
    return await readParts(request, blobs);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
      throw new VisionopsError('INVALID_REQUEST', `A job takes at most ${maxImages} files in fields "image" (queue.maxImagesPerJob) and the fields "pipeline" and "webhook" once each: split the images into several jobs.`);
    }
    throw error;
  }
}

async function readParts(request: FastifyRequest, blobs: BlobStore): Promise<Submitted> {
  const submitted: Submitted = { images: [], pipeline: undefined, webhook: undefined };
  for await (const part of request.parts()) {
    if (part.type === 'file' && part.fieldname === 'image') {
      const blob = await blobs.put(await part.toBuffer());
      submitted.images.push({ sha256: blob, source: { blob }, name: part.filename ?? null });
    } else if (part.type === 'field' && (part.fieldname === 'pipeline' || part.fieldname === 'webhook')) {
      const value = String(part.value);
      if (part.fieldname === 'webhook' && !webhook.safeParse(value).success) throw new VisionopsError('INVALID_REQUEST', 'The field "webhook" must be an http or https URL.');
      submitted[part.fieldname] = value;
    } else {
      if (part.type === 'file') part.file.resume();
      throw new VisionopsError('INVALID_REQUEST', `Unexpected multipart ${part.type} "${part.fieldname}": send files in fields "image" and optional fields "pipeline" and "webhook".`);
    }
  }
  return submitted;
}
