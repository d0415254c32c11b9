import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, VisionopsError, type ErrorCode } from '../core/errors.js';
import type { RuntimeConfig } from './config.js';
import type { SerializedError, WorkerReply, WorkerRequest, WorkerSetup } from './inference-worker.js';
import type { ModelManifest } from './manifest.js';
import type { ModelSession, TensorData } from './session.js';

/**
 * Sessions of the same models in several worker threads; each `run` goes to the least busy
 * worker. Sessions of CTC models answer per-step summaries (`summarizeCtcOutputs`), made in the
 * worker.
 */
export interface WorkerPool {
  /** One session per manifest, in the order given. */
  readonly sessions: ModelSession[];
  /** The same models answering their outputs as computed, CTC probabilities unsummarised: for serving the models themselves. */
  readonly rawSessions: ModelSession[];
  readonly size: number;
  close(): Promise<void>;
}

interface Job {
  resolve(outputs: Record<string, TensorData>): void;
  reject(error: unknown): void;
}

interface PoolWorker {
  worker: Worker;
  busy: number;
  jobs: Map<number, Job>;
  /** Set once the thread has exited: no job is sent to it again. */
  exited: boolean;
}

function deserialize(error: SerializedError, fallback: ErrorCode): VisionopsError {
  const code = ERROR_CODES.includes(error.code as ErrorCode) ? (error.code as ErrorCode) : fallback;
  return new VisionopsError(code, error.message, error.details);
}

/**
 * The built worker beside this file; from the sources (tests, benchmarks under tsx) a bootstrap
 * that registers tsx in the new thread first, since tsx's loader hooks do not follow into workers.
 */
function newInferenceWorker(setup: WorkerSetup): Worker {
  const built = new URL('./inference-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return new Worker(built, { workerData: setup });
  const source = new URL('./inference-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}

function startWorker(setup: WorkerSetup): Promise<PoolWorker> {
  return new Promise((resolve, reject) => {
    const worker = newInferenceWorker(setup);
    const pooled: PoolWorker = { worker, busy: 0, jobs: new Map(), exited: false };
    const onStartError = (error: Error) => reject(new VisionopsError('MODEL_LOAD_FAILED', `An inference worker failed to start (${error.message}).`, {}, { cause: error }));
    worker.once('error', onStartError);
    worker.on('message', (reply: WorkerReply) => {
      switch (reply.kind) {
        case 'loaded':
          worker.off('error', onStartError);
          worker.on('error', (error) => failAll(pooled, error));
          worker.on('exit', (code) => {
            pooled.exited = true;
            failAll(pooled, new Error(`the thread exited with code ${code}`));
          });
          resolve(pooled);
          return;
        case 'load-failed':
          void worker.terminate();
          reject(deserialize(reply.error, 'MODEL_LOAD_FAILED'));
          return;
        case 'done':
        case 'failed': {
          const job = pooled.jobs.get(reply.id);
          if (job === undefined) return;
          pooled.jobs.delete(reply.id);
          pooled.busy--;
          if (reply.kind === 'done') job.resolve(reply.outputs);
          else job.reject(deserialize(reply.error, 'INFERENCE_FAILED'));
          return;
        }
        case 'closed':
          return;
      }
    });
  });
}

function failAll(pooled: PoolWorker, error: Error): void {
  for (const job of pooled.jobs.values()) {
    job.reject(new VisionopsError('INFERENCE_FAILED', `An inference worker stopped (${error.message}): restart visionops.`, {}, { cause: error }));
  }
  pooled.jobs.clear();
  pooled.busy = 0;
}

/**
 * Starts `size` worker threads, each with its own onnxruntime sessions of every manifest (with
 * `runtime.intraOpThreads` threads each). Throws MODEL_NOT_FOUND or MODEL_LOAD_FAILED as
 * createOnnxSession does; nothing stays running then.
 *
 * @example
 * const pool = await startWorkerPool([detection, recognition], runtime, 2);
 * const [detector, recogniser] = pool.sessions;
 */
export async function startWorkerPool(manifests: ModelManifest[], runtime: RuntimeConfig, size: number): Promise<WorkerPool> {
  const started = await Promise.allSettled(Array.from({ length: size }, () => startWorker({ manifests, runtime })));
  const failure = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  const workers = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  if (failure !== undefined) {
    await Promise.all(workers.map((pooled) => pooled.worker.terminate()));
    throw failure.reason;
  }

  let nextId = 0;
  let closed = false;
  const sessionOf = (manifest: ModelManifest, model: number, raw: boolean): ModelSession => ({
    manifest,
    run(feeds) {
      if (closed) return Promise.reject(new VisionopsError('INFERENCE_FAILED', `The session of model ${manifest.id}@${manifest.version} is closed: load the model again.`));
      const alive = workers.filter((candidate) => !candidate.exited);
      if (alive.length === 0) {
        return Promise.reject(new VisionopsError('INFERENCE_FAILED', `Every inference worker has stopped, so model ${manifest.id}@${manifest.version} cannot run: restart visionops.`));
      }
      const pooled = alive.reduce((least, candidate) => (candidate.busy < least.busy ? candidate : least));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pooled.jobs.set(id, { resolve, reject });
        pooled.busy++;
        // Copied, not transferred: a caller may still hold the input (a batch of one shares it).
        pooled.worker.postMessage({ kind: 'run', id, model, feeds, raw } satisfies WorkerRequest);
      });
    },
    async close() {
      // The pool closes the workers; one model alone cannot be unloaded from them.
    },
  });
  const sessions = manifests.map((manifest, model) => sessionOf(manifest, model, false));
  const rawSessions = manifests.map((manifest, model) => sessionOf(manifest, model, true));

  return {
    sessions,
    rawSessions,
    size,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(
        workers.map(
          (pooled) =>
            new Promise<void>((done) => {
              if (pooled.exited) return done();
              pooled.worker.once('exit', () => done());
              pooled.worker.postMessage({ kind: 'close' } satisfies WorkerRequest);
              setTimeout(() => void pooled.worker.terminate(), 2000).unref();
            }),
        ),
      );
    },
  };
}
