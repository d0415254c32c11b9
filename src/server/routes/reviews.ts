import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { VisionopsError } from '../../core/errors.js';
import { resolveTaskAnswer } from '../../review/answers.js';
import type { ReviewConfig } from '../../review/config.js';
import { renderJpeg } from '../../image/render.js';
import type { IngestConfig } from '../../image/config.js';
import { reviewStats, type LabModel, type ModelReviewStats } from '../../review/stats.js';
import type { ReviewStore } from '../../store/store.js';
import type { ReviewTask } from '../../core/records/review.js';
import { isRecordId } from '../../store/record-id.js';
import type { BlobStore, PredictionStore } from '../../store/store.js';

export interface ReviewRouteOptions {
  reviews: ReviewStore;
  predictions: PredictionStore;
  blobs: BlobStore;
  config: ReviewConfig;
  /** Ingest's limits, which kept images are decoded again within. */
  limits: Pick<IngestConfig, 'maxPixels'>;
  /** The manifests of the models that may appear in tasks, for their lab accuracy. */
  lab: LabModel[];
  /** Milliseconds since the epoch; the answer's time. */
  now?: () => number;
  /** Told of every kept answer with the updated figures of its model version: the monitor's override alert and accuracy gauges. */
  onAnswered?: (task: ReviewTask, figures: ModelReviewStats) => void;
}

const listQuerySchema = z
  .object({
    status: z.enum(['pending', 'claimed', 'done']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z.string().refine(isRecordId, 'a task id').optional(),
  })
  .strict();

const scope = { scope: 'review' as const };

/** The review queue: list, claim, look at, answer; and what the answers tell (`/stats`). */
export const reviewRoutes: FastifyPluginAsync<ReviewRouteOptions> = async (app, { reviews, predictions, blobs, config, limits, lab, now = Date.now, onAnswered }) => {
  async function taskOf(id: string): Promise<ReviewTask> {
    if (!isRecordId(id)) throw new VisionopsError('INVALID_REQUEST', `"${id}" is not a review task id: use an id that GET /v1/reviews or POST /v1/reviews/claim gave.`);
    const task = await reviews.get(id);
    if (task === null) throw new VisionopsError('TASK_NOT_FOUND', `There is no review task ${id}: list the tasks with GET /v1/reviews.`);
    return task;
  }

  /** A task with what a reviewer needs beside it: where its image is, and the prediction's quality report and reasons. */
  async function detailOf(task: ReviewTask) {
    const record = await predictions.get(task.predictionId);
    return {
      ...task,
      image: { url: `/v1/reviews/${task.id}/image`, width: task.modelOutput.width, height: task.modelOutput.height },
      prediction: record === null ? null : { decision: record.decision, reasons: record.reasons, quality: record.quality, createdAt: record.createdAt },
    };
  }

  app.get('/v1/reviews', { config: scope }, async (request) => {
    const parsed = listQuerySchema.safeParse(request.query);
    if (!parsed.success) {
      throw new VisionopsError('INVALID_REQUEST', `Bad query (${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}): use ?status=pending|claimed|done&limit=1..200&before=<task id>.`);
    }
    const { status, limit, before } = parsed.data;
    const tasks = await reviews.list({ status, limit, before });
    return { tasks, next: tasks.length === limit ? tasks[tasks.length - 1].id : null };
  });

  app.get('/v1/reviews/stats', { config: scope }, async () => reviewStats(await reviews.counts(), await reviews.tallies(), lab));

  app.post('/v1/reviews/claim', { config: scope }, async (request, reply) => {
    const task = await reviews.claim(request.principal.id, config.leaseSeconds * 1000);
    if (task === null) return reply.status(204).send();
    return detailOf(task);
  });

  app.get<{ Params: { id: string } }>('/v1/reviews/:id', { config: scope }, async (request) => detailOf(await taskOf(request.params.id)));

  app.get<{ Params: { id: string } }>('/v1/reviews/:id/image', { config: scope }, async (request, reply) => {
    const task = await taskOf(request.params.id);
    const bytes = await blobs.get(task.blob);
    if (bytes === null) {
      throw new VisionopsError('TASK_NOT_FOUND', `The image of task ${task.id} is no longer in the blob store (${task.blob}): restore the data directory's blobs/ folder.`);
    }
    return reply.type('image/jpeg').header('cache-control', 'private, max-age=3600').send(await renderJpeg(bytes, limits, { rotation: task.modelOutput.rotation, quality: 90 }));
  });

  app.post<{ Params: { id: string } }>('/v1/reviews/:id/answer', { config: scope }, async (request) => {
    const task = await taskOf(request.params.id);
    const answered = await reviews.answer(task.id, resolveTaskAnswer(task, request.body, request.principal.id, new Date(now())));
    if (onAnswered !== undefined) {
      const figures = reviewStats(await reviews.counts(), await reviews.tallies(), lab).models.find((model) => model.modelVersion === answered.modelVersion);
      if (figures !== undefined) onAnswered(answered, figures);
    }
    return detailOf(answered);
  });
};
