import { VisionopsError } from '../../core/errors.js';
import type { ModelManifest } from '../manifest.js';
import { decodeInferResponse, encodeInferRequest, HEADER_LENGTH, readHeaderLength } from '../oip/messages.js';
import type { ModelSession, TensorData } from '../session.js';
import type { RemoteBackendConfig } from './config.js';
import { EndpointPool, RequestRefused, type EndpointStatus, type RemoteListener } from './pool.js';

/** A session whose model runs on remote OIP v2 servers; `endpoints` tells how each stands. */
export interface RemoteSession extends ModelSession {
  endpoints(): EndpointStatus[];
}

/**
 * `manifest`'s model run on the servers of `config`, spoken to as Triton's HTTP client speaks:
 * float32 inputs and every output as binary tensor data. Preprocessing, postprocessing and the
 * lineage stay the local manifest's; the servers must hold the same weights under `config.model`
 * (the manifest's id by default). Health checks start at once; `close` stops them.
 */
export function remoteSession(manifest: ModelManifest, config: RemoteBackendConfig, listener?: RemoteListener): RemoteSession {
  const model = config.model ?? manifest.id;
  const path = `/v2/models/${encodeURIComponent(model)}${config.version === null ? '' : `/versions/${encodeURIComponent(config.version)}`}`;
  const pool = new EndpointPool(config.endpoints, { model, timeoutMs: config.timeoutMs, attempts: config.attempts, breaker: config.breaker, healthCheck: config.healthCheck, listener });
  pool.startHealthChecks(async (url, signal) => (await fetch(`${url}${path}/ready`, { signal })).ok);

  return {
    manifest,
    endpoints: () => pool.status(),
    async run(feeds) {
      const inputs = Object.entries(feeds).map(([name, tensor]) => ({ name, datatype: 'FP32' as const, shape: tensor.dims, data: tensor.data }));
      const { body, headerLength } = encodeInferRequest({ inputs, binaryInputs: true, binaryOutputs: true });
      return pool.call(async (url, signal) => {
        const response = await fetch(`${url}${path}/infer`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/octet-stream', ...(headerLength === null ? {} : { [HEADER_LENGTH]: String(headerLength) }) },
          body,
          signal,
        });
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (!response.ok) {
          const message = errorMessage(bytes) ?? `HTTP ${response.status}`;
          // A 4xx is about the request itself; another server would refuse it too.
          if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) throw new RequestRefused(message);
          throw new Error(`${url} answered ${response.status}: ${message}`);
        }
        return toTensors(manifest, decodeInferResponse(bytes, readHeaderLength(response.headers.get(HEADER_LENGTH))).outputs);
      });
    },
    async close() {
      pool.close();
    },
  };
}

function toTensors(manifest: ModelManifest, outputs: ReturnType<typeof decodeInferResponse>['outputs']): Record<string, TensorData> {
  const result: Record<string, TensorData> = {};
  for (const output of outputs) {
    if (!(output.data instanceof Float32Array)) {
      throw new VisionopsError('INFERENCE_FAILED', `The remote model ${manifest.id} answered output ${output.name} as ${output.datatype}: this runtime reads FP32 outputs only.`, { output: output.name });
    }
    result[output.name] = { data: output.data, dims: output.shape };
  }
  return result;
}

function errorMessage(bytes: Uint8Array): string | null {
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : null;
  } catch {
    return null;
  }
}
