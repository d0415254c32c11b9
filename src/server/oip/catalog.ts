import { readFileSync } from 'node:fs';
import type { PredictionRecord } from '../../core/records/prediction.js';
import type { IdempotentService } from '../../pipeline/idempotency.js';
import type { PredictionServices } from '../../pipeline/service.js';
import type { Admit } from '../overload.js';
import { sessionModel, type ModelCatalog, type ServableModel } from '../../runtime/oip/servable.js';

/** What `GET /v2` answers: the server's name, version and the protocol extensions it supports. */
export function serverMetadata() {
  // src/server/oip/ under tsx and dist/server/oip/ once built sit equally deep below package.json.
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return { name: 'visionops', version, extensions: ['binary_tensor_data'] };
}

/**
 * A whole pipeline as one model: `image` (BYTES, shape [1], the encoded image) in, `result`
 * (BYTES, shape [1], the answer of POST /v1/predict as JSON) out. It goes through the service,
 * so it is gated, decided and recorded like any prediction, and admitted like one.
 */
export function pipelineModel(service: IdempotentService, answerOf: (record: PredictionRecord) => unknown): ServableModel {
  const { pipeline } = service;
  return {
    name: pipeline.name,
    versions: [pipeline.version],
    platform: 'visionops_pipeline',
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }],
    outputs: [{ name: 'result', datatype: 'BYTES', shape: [1] }],
    async infer(inputs, { signal }) {
      const [image] = inputs[0].data as Uint8Array[];
      const record = await service.predict(image, { channel: 'oip' }, {}, { signal });
      return [{ name: 'result', datatype: 'BYTES', shape: [1], data: [new TextEncoder().encode(JSON.stringify(answerOf(record)))] }];
    },
  };
}

/**
 * The models this server runs over the protocol: every configured pipeline under its name, then
 * every model those pipelines run under its manifest's id (a model named like a pipeline is
 * reached through the pipeline). A model's runs take a slot in the admission queue, as the
 * pipelines' predictions (through `services`) do.
 */
export function pipelineCatalog(services: PredictionServices, answerOf: (record: PredictionRecord) => unknown, admit: Admit): ModelCatalog {
  const models: ServableModel[] = services.names.map((name) => pipelineModel(services.get(name), answerOf));
  for (const name of services.names) {
    for (const session of services.get(name).pipeline.sessions ?? []) {
      if (!models.some((model) => model.name === session.manifest.id)) models.push(admitted(sessionModel(session), admit));
    }
  }
  return { list: () => models };
}

function admitted(model: ServableModel, admit: Admit): ServableModel {
  return { ...model, infer: (inputs, context) => admit(context.signal, (signal) => model.infer(inputs, { ...context, signal })) };
}
