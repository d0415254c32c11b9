import type { DeviceReadingSettings, Frame } from '../../src/core/device.ts';
import type { Examined, ModelAnswer, ModelName, ModelRequest, ModelUrls, RecogniserSetup, Runtime } from './model-protocol.ts';

export { DEVICE_DETECTION_SIDE, type Examined, type ModelBackend, type ModelUrls, type RecogniserSetup } from './model-protocol.ts';

/** The built-in 0/180 text-line classifier's scores for one tensor, in the order of its labels (0, 180). */
export type LineClassifier = (tensor: { data: Float32Array; dims: number[] }) => Promise<number[]>;

/** Requests without their id: the id is the client's to give. */
type Request = ModelRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * The page's side of the model worker (model-worker.ts): one worker for every caller, so the
 * WebAssembly compiles once and each model loads once. Requests are answered by id.
 */
class ModelWorker {
  private readonly worker = new Worker(new URL('./model-worker.ts', import.meta.url), { type: 'module' });
  private readonly waiting = new Map<number, { resolve(answer: ModelAnswer): void; reject(error: Error): void }>();
  private nextId = 0;
  /** Set once the worker's script failed: later requests fail at once rather than wait for an answer that cannot come. */
  private broken: Error | null = null;

  constructor() {
    this.worker.onmessage = (event: MessageEvent<ModelAnswer>) => {
      const answer = event.data;
      const waiter = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      if (answer.call === 'failed') waiter?.reject(new Error(answer.message));
      else waiter?.resolve(answer);
    };
    this.worker.onerror = (event) => {
      // The worker's script itself failed (it did not load, or threw outside a request): every request waiting on it fails.
      this.broken = new Error(`the model worker failed: ${event.message || 'its script did not load'}`);
      for (const waiter of this.waiting.values()) waiter.reject(this.broken);
      this.waiting.clear();
    };
  }

  ask<C extends Request['call']>(request: Extract<Request, { call: C }>, transfer: Transferable[] = []): Promise<Extract<ModelAnswer, { call: C }>> {
    if (this.broken !== null) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (answer: ModelAnswer) => void, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }
}

let shared: ModelWorker | null = null;

async function load(models: Partial<Record<ModelName, string>>, { wasm, webgpuWasm }: Runtime, setup: { settings?: DeviceReadingSettings; recogniser?: RecogniserSetup } = {}): Promise<ModelWorker> {
  shared ??= new ModelWorker();
  await shared.ask({ call: 'load', models, runtime: { wasm, webgpuWasm }, ...setup });
  return shared;
}

/**
 * The buffer behind pixels or a tensor made for one call, moved to the worker rather than copied;
 * a view that shares its buffer with other data is copied instead. The caller's view is empty afterwards.
 */
function handedOver(view: ArrayBufferView): Transferable[] {
  return view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? [view.buffer] : [];
}

/** The classifier in the model worker. The tensor's buffer moves to the worker: pass one made for the call. */
export async function loadLineClassifier(urls: Pick<ModelUrls, 'orientation' | 'wasm' | 'webgpuWasm'>): Promise<LineClassifier> {
  const worker = await load({ orientation: urls.orientation }, urls);
  return async (tensor) => (await worker.ask({ call: 'classify', tensor: { data: tensor.data, dims: tensor.dims } }, handedOver(tensor.data))).scores;
}

/** Which models a page runs besides the detector. */
export interface DeviceModelChoice {
  /** The 0/180 classifier, so each frame's vote says whether the page is upside down. */
  orientation: boolean;
  /** The recogniser (policy `device`), so frames can be read on the device. */
  recogniser?: RecogniserSetup;
}

/**
 * The device's models in the model worker, for one frame at a time: the built-in detector finds
 * the lines (at DEVICE_DETECTION_SIDE) once; with the classifier, the server's document pipeline's
 * 0/180 vote says whether the page is upside down; with the recogniser and `read`, each line is cut
 * as it is sent and read with the core's preprocessing, CTC decoding and spelling, as the server
 * reads a regions upload. `settings` are the server's (DEVICE_MODELS_PATH), so the device turns and
 * reads as it is configured to. The frame is copied to the worker and stays the caller's, to cut
 * crops from; the crops of a reading come back with it.
 */
export async function loadDeviceModels(urls: ModelUrls, settings: DeviceReadingSettings, choice: DeviceModelChoice): Promise<(frame: Frame, read: boolean) => Promise<Examined>> {
  const models: Partial<Record<ModelName, string>> = { detection: urls.detection };
  if (choice.orientation) models.orientation = urls.orientation;
  if (choice.recogniser !== undefined) models.recognition = urls.recognition;
  const worker = await load(models, urls, { settings, recogniser: choice.recogniser });
  return async (frame, read) => (await worker.ask({ call: 'examine', frame, read })).examined;
}
