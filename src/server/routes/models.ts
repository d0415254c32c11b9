import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { VisionopsError } from '../../core/errors.js';
import { compareVersions, versionFigures } from '../../registry/judging.js';
import type { Lifecycle } from '../../registry/lifecycle.js';
import { changeStage, listVersions, rollback } from '../../registry/registry.js';
import type { LifecycleStage } from '../../registry/types.js';
import type { ModelStore } from '../../store/store.js';

export interface ModelRouteOptions {
  store: ModelStore;
  lifecycle: Lifecycle;
}

function actor(request: FastifyRequest): string {
  return `admin:${request.principal.id}`;
}

/** The model registry over HTTP: versions with their stage and live figures, stage changes, rollback, the comparison of a candidate with production. */
export const modelRoutes: FastifyPluginAsync<ModelRouteOptions> = async (app, { store, lifecycle }) => {
  app.get('/v1/models', { config: { scope: 'predict' } }, async () => ({ versions: await listVersions(store) }));

  app.get<{ Params: { model: string } }>('/v1/models/:model', { config: { scope: 'predict' } }, async (request) => {
    const { model } = request.params;
    const versions = await listVersions(store, model);
    const figures = await Promise.all(
      versions.map((v) => (v.stage === 'off' || v.since === null ? null : versionFigures(store, model, v.version, v.stage, v.since))),
    );
    return { model, versions: versions.map((v, i) => ({ ...v, figures: figures[i] })), history: await store.stageHistory(model, 20) };
  });

  app.get<{ Params: { model: string }; Querystring: { candidate?: string } }>('/v1/models/:model/compare', { config: { scope: 'predict' } }, async (request) => {
    const { candidate } = request.query;
    if (candidate === undefined || candidate === '') throw new VisionopsError('INVALID_REQUEST', 'Name the version to compare with production: ?candidate=VERSION.');
    return compareVersions(store, request.params.model, candidate);
  });

  app.post<{ Params: { model: string; version: string }; Body: { stage?: LifecycleStage; weight?: number; reason?: string } | null }>(
    '/v1/models/:model/versions/:version/stage',
    { config: { scope: 'admin' } },
    async (request) => {
      const body = request.body ?? {};
      if (typeof body !== 'object' || typeof body.stage !== 'string') {
        throw new VisionopsError('INVALID_REQUEST', 'Send {"stage": "production" | "canary" | "shadow" | "off", "weight"?: 0..1} as JSON.');
      }
      if (body.weight !== undefined && typeof body.weight !== 'number') throw new VisionopsError('INVALID_REQUEST', 'weight is a number between 0 and 1.');
      const { model, version } = request.params;
      const assignment = await changeStage(store, { model, version, stage: body.stage, weight: body.weight, by: actor(request), reason: body.reason });
      await lifecycle.refresh();
      return { assignment };
    },
  );

  app.post<{ Params: { model: string } }>('/v1/models/:model/rollback', { config: { scope: 'admin' } }, async (request) => {
    const result = await rollback(store, request.params.model, actor(request));
    await lifecycle.refresh();
    return result;
  });
};
