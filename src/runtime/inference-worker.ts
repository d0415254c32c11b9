/**
 * One inference worker thread: it loads the models it is sent and runs them on request, so that
 * onnxruntime-node, whose `run` blocks the thread that calls it, never blocks the main thread
 * (decoding, the gate, pre- and postprocessing and HTTP keep going meanwhile).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isVisionopsError } from '../core/errors.js';
import type { RuntimeConfig } from './config.js';
import type { ModelManifest } from './manifest.js';
import { summarizeCtcOutputs } from './ctc-summary.js';
import { createOnnxSession } from './onnx-node.js';
import type { ModelSession, TensorData } from './session.js';

export interface WorkerSetup {
  manifests: ModelManifest[];
  runtime: RuntimeConfig;
}

/** `raw`: the outputs as the model gives them, CTC probabilities unsummarised (for serving the model itself). */
export type WorkerRequest = { kind: 'run'; id: number; model: number; feeds: Record<string, TensorData>; raw?: boolean } | { kind: 'close' };

export type WorkerReply =
  | { kind: 'loaded' }
  | { kind: 'load-failed'; error: SerializedError }
  | { kind: 'done'; id: number; outputs: Record<string, TensorData> }
  | { kind: 'failed'; id: number; error: SerializedError }
  | { kind: 'closed' };

export interface SerializedError {
  code: string | null;
  message: string;
  details?: Record<string, unknown>;
}

function serialize(error: unknown): SerializedError {
  if (isVisionopsError(error)) return { code: error.code, message: error.message, details: error.details };
  return { code: null, message: error instanceof Error ? error.message : String(error) };
}

const port = parentPort;
if (port === null) throw new Error('inference-worker.ts runs as a worker thread only.');
const setup = workerData as WorkerSetup;

let sessions: ModelSession[] = [];
try {
  sessions = await Promise.all(setup.manifests.map((manifest) => createOnnxSession(manifest, setup.runtime)));
  port.postMessage({ kind: 'loaded' } satisfies WorkerReply);
} catch (error) {
  await Promise.all(sessions.map((session) => session.close()));
  port.postMessage({ kind: 'load-failed', error: serialize(error) } satisfies WorkerReply);
}

port.on('message', async (request: WorkerRequest) => {
  if (request.kind === 'close') {
    await Promise.all(sessions.map((session) => session.close()));
    port.postMessage({ kind: 'closed' } satisfies WorkerReply);
    port.close();
    return;
  }
  try {
    const session = sessions[request.model];
    const computed = await session.run(request.feeds);
    const outputs = request.raw === true ? computed : summarizeCtcOutputs(session.manifest, computed);
    const buffers = Object.values(outputs).map((tensor) => tensor.data.buffer as ArrayBuffer);
    port.postMessage({ kind: 'done', id: request.id, outputs } satisfies WorkerReply, buffers);
  } catch (error) {
    port.postMessage({ kind: 'failed', id: request.id, error: serialize(error) } satisfies WorkerReply);
  }
});
