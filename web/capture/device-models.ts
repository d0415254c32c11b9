import type { Frame, Quad } from '../../src/core/device.ts';
import type { DeviceReading, ModelAnswer, ModelBackend, ModelName, ModelRequest, ModelUrls, PageOrientation, Runtime } from './model-protocol.ts';

export { DEVICE_DETECTION_SIDE, type DeviceReading, type ModelBackend, type ModelUrls, type PageOrientation } from './model-protocol.ts';

/** The built-in 0/180 text-line classifier's scores for one tensor, in the order of its labels (0, 180). */
export type LineClassifier = (tensor: { data: Float32Array; dims: number[] }) => Promise<number[]>;

/** The lines the built-in detector finds in a frame (at DEVICE_DETECTION_SIDE), in the frame's coordinates and reading order. */
export interface DetectedText {
  boxes: Quad[];
  backend: ModelBackend;
}

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

async function load(models: Partial<Record<ModelName, string>>, { wasm, webgpuWasm }: Runtime, recogniser?: { alphabet: string[]; lexicon: string }): Promise<ModelWorker> {
  shared ??= new ModelWorker();
  await shared.ask({ call: 'load', models, runtime: { wasm, webgpuWasm }, ...recogniser });
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

/**
 * The detector in the model worker, for callers that crop from the frame afterwards: the frame is
 * copied to the worker and stays the caller's.
 */
export async function loadTextDetector(urls: Pick<ModelUrls, 'detection' | 'wasm' | 'webgpuWasm'>): Promise<(frame: Frame) => Promise<DetectedText>> {
  const worker = await load({ detection: urls.detection }, urls);
  return async (frame) => {
    const { boxes, backend } = await worker.ask({ call: 'textBoxes', frame });
    return { boxes, backend };
  };
}

/**
 * Whether the page in a frame is upside down, decided on the device as the server's document
 * pipeline decides it: the built-in detector (at DEVICE_DETECTION_SIDE) finds the lines, each line's
 * crop goes through the 0/180 classifier, and the page turns when more than the configured share
 * of its text (by line length) reads as 180 degrees. The tensors are the core's, the vote the
 * pipeline's; all of it runs in the model worker, and the frame's pixels move there (pass a frame made for the call).
 */
export async function loadPageOrientation(urls: Pick<ModelUrls, 'detection' | 'orientation' | 'wasm' | 'webgpuWasm'>): Promise<(frame: Frame) => Promise<PageOrientation>> {
  const worker = await load({ detection: urls.detection, orientation: urls.orientation }, urls);
  return async (frame) => (await worker.ask({ call: 'orientation', frame }, handedOver(frame.data))).orientation;
}

/**
 * The text of a frame read on the device (policy `device`), as the server reads a regions upload:
 * the built-in detector finds the lines, each is cut as it is sent, and the built-in recogniser
 * reads it with the core's preprocessing, CTC decoding and spelling, in the model worker.
 * `alphabet` is the recogniser's and `lexicon` the URL of the spelling pass's words, as the server
 * serves them (DEVICE_MODELS_PATH, DEVICE_LEXICON_PATH). The frame is copied to the worker and
 * stays the caller's; the crops come back with the reading.
 */
export async function loadDeviceReader(urls: Pick<ModelUrls, 'detection' | 'recognition' | 'wasm' | 'webgpuWasm'>, alphabet: string[], lexicon: string): Promise<(frame: Frame) => Promise<DeviceReading>> {
  const worker = await load({ detection: urls.detection, recognition: urls.recognition }, urls, { alphabet, lexicon });
  return async (frame) => (await worker.ask({ call: 'read', frame })).reading;
}
