import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.js';
import { VisionopsError } from '../../core/errors.js';
import { decodeInferRequest, encodeInferResponse, HEADER_LENGTH, readHeaderLength } from '../../runtime/oip/messages.js';
import { checkInputs, type ModelCatalog, type ServableModel } from '../../runtime/oip/servable.js';
import type { PredictionStore } from '../../store/store.js';
import { oipErrorHandler } from '../oip/errors.js';
import { serverMetadata } from '../oip/catalog.js';
import { clientGone } from '../overload.js';

export interface OipRouteOptions {
  config: Config;
  models: ModelCatalog;
  store: PredictionStore;
  /** False while the models load or the server drains. */
  ready: () => boolean;
}

/** Room above `ingest.maxBytes` for the JSON header of a request carrying an image. */
const ENVELOPE_BYTES = 1024 * 1024;

interface ModelParams {
  model: string;
  version?: string;
}

/**
 * The Open Inference Protocol v2 (KServe / Triton HTTP/REST), registered under the prefix /v2, with the binary tensor
 * data extension: health, server and model metadata, model readiness and inference for every model
 * of `models`. Errors are the protocol's `{"error": "..."}`. Health needs no key; the rest needs the
 * `predict` scope, as POST /v1/predict does.
 */
export const oipRoutes: FastifyPluginAsync<OipRouteOptions> = async (app, { config, models, store, ready }) => {
  app.setErrorHandler(oipErrorHandler());
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).header('X-Visionops-Error-Code', 'NOT_FOUND').send({ error: `There is no route ${request.method} ${request.url}: see docs/inference-protocol.md for the /v2 routes.` }),
  );
  // Inference bodies are JSON, or JSON followed by binary tensor data, whatever the Content-Type says (Triton's client sends none).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.ingest.maxBytes + ENVELOPE_BYTES }, (_request, body, done) => done(null, body));

  const metadata = serverMetadata();
  const find = (request: FastifyRequest): ServableModel => findModel(models, request.params as ModelParams);

  app.get('/health/live', { config: { scope: 'public' } }, async () => ({ live: true }));
  app.get('/health/ready', { config: { scope: 'public' } }, async () => {
    if (!ready()) throw new VisionopsError('NOT_READY', 'The models are not loaded yet, or the server is shutting down: retry in a few seconds.');
    await store.ping();
    return { ready: true };
  });
  app.get('', { config: { scope: 'predict' } }, async () => metadata);

  for (const base of ['/models/:model', '/models/:model/versions/:version']) {
    app.get(base, { config: { scope: 'predict' } }, async (request) => {
      const model = find(request);
      return { name: model.name, versions: model.versions, platform: model.platform, inputs: model.inputs, outputs: model.outputs };
    });
    app.get(`${base}/ready`, { config: { scope: 'predict' } }, async (request) => {
      const model = find(request);
      if (!ready()) throw new VisionopsError('NOT_READY', `Model "${model.name}" is not ready: the server is loading or shutting down.`);
      return { name: model.name, ready: true };
    });
    app.post(`${base}/infer`, { config: { scope: 'predict' } }, async (request, reply) => {
      const model = find(request);
      if (!ready()) throw new VisionopsError('NOT_READY', `Model "${model.name}" is not ready: the server is loading or shutting down.`);
      const body = request.body instanceof Uint8Array ? request.body : new Uint8Array(0);
      const inference = decodeInferRequest(body, readHeaderLength(request.headers[HEADER_LENGTH.toLowerCase()]));
      checkInputs(model, inference.inputs);
      const unknown = inference.outputs?.find((wanted) => !model.outputs.some((output) => output.name === wanted.name));
      if (unknown !== undefined) {
        throw new VisionopsError('INVALID_REQUEST', `Model "${model.name}" has no output "${unknown.name}": its outputs are ${model.outputs.map((o) => o.name).join(', ')}.`);
      }
      const computed = await model.infer(inference.inputs, { signal: clientGone(reply) });
      const outputs = inference.outputs === undefined ? computed : computed.filter((output) => inference.outputs?.some((wanted) => wanted.name === output.name));
      const { body: answer, headerLength } = encodeInferResponse(
        { model_name: model.name, model_version: model.versions[0], ...(inference.id === undefined ? {} : { id: inference.id }), outputs },
        inference,
      );
      if (headerLength === null) return reply.type('application/json').send(Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength));
      return reply.type('application/octet-stream').header(HEADER_LENGTH, String(headerLength)).send(Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength));
    });
  }
};

/** The model named in the path, at the version asked for; NOT_FOUND otherwise. */
function findModel(models: ModelCatalog, { model: name, version }: ModelParams): ServableModel {
  const all = models.list();
  const model = all.find((candidate) => candidate.name === name);
  if (model === undefined) {
    throw new VisionopsError('NOT_FOUND', `Unknown model "${name}": this server runs ${all.map((m) => m.name).join(', ')}.`, { model: name });
  }
  if (version !== undefined && !model.versions.includes(version)) {
    throw new VisionopsError('NOT_FOUND', `Model "${name}" has no version "${version}": it has ${model.versions.join(', ')}.`, { model: name, version });
  }
  return model;
}
