import type { FastifyPluginAsync } from 'fastify';
import { VisionopsError } from '../../core/errors.js';
import { isRecordId } from '../../store/record-id.js';
import type { PredictionStore } from '../../store/store.js';

export interface PredictionsOptions {
  store: PredictionStore;
}

/** Reading back what was recorded: the full record, lineage and timings included. */
export const predictionRoutes: FastifyPluginAsync<PredictionsOptions> = async (app, { store }) => {
  app.get<{ Params: { id: string } }>('/v1/predictions/:id', { config: { scope: 'predict' } }, async (request) => {
    const { id } = request.params;
    if (!isRecordId(id)) {
      throw new VisionopsError('INVALID_REQUEST', `"${id}" is not a prediction id: use the id that POST /v1/predict answered (a UUIDv7).`);
    }
    const record = await store.get(id);
    if (record === null) {
      throw new VisionopsError('PREDICTION_NOT_FOUND', `There is no prediction ${id}: check the id, and that this server uses the data directory that recorded it.`);
    }
    return record;
  });
};
