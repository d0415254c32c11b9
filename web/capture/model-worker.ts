import type * as Ort from 'onnxruntime-web';
import { findTextRegions, ORIENTATION_PREPROCESS, readLinesOnDevice, RECOGNITION_POSTPROCESS, RECOGNITION_PREPROCESS, toTensor, type Frame, type LineReader, type Quad, type Spelling } from '../../src/core/device.ts';
// Only the model worker spells, so only its bundle carries Hunspell.
import { lexiconOf, type LexiconSource } from '../../src/core/text/lexicon.ts';
import { pipelineConfigSchema } from '../../src/pipeline/config.ts';
import { pageUpsideDown } from '../../src/pipeline/orientation.ts';
import { type DeviceReading, type ModelAnswer, type ModelBackend, type ModelName, type ModelRequest, type Runtime, type TensorData } from './model-protocol.ts';

/**
 * The capture page's on-device models, off the page's thread: onnxruntime-web compiles its
 * WebAssembly, opens the sessions and runs them here, so the page keeps guiding while they load
 * and run. The detector's tensor, its boxes, the line crops and the vote are made here too.
 */

type Ort = typeof Ort;

interface Model {
  session: Ort.InferenceSession;
  ort: Ort;
  backend: ModelBackend;
}

const models = new Map<ModelName, Promise<Model>>();
let runtimes: Promise<{ ort: Ort; backend: ModelBackend }[]> | null = null;

/** The runtimes to try, preferred first: onnxruntime-web's WebGPU build when the browser has an adapter (and the page gave its binary), its WebAssembly build always. */
function runtimesFor(urls: Runtime): Promise<{ ort: Ort; backend: ModelBackend }[]> {
  runtimes ??= (async () => {
    const found: { ort: Ort; backend: ModelBackend }[] = [];
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (urls.webgpuWasm !== undefined && gpu !== undefined && (await gpu.requestAdapter().catch(() => null)) !== null) {
      const ort: Ort = await import('onnxruntime-web/webgpu');
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = { wasm: urls.webgpuWasm };
      found.push({ ort, backend: 'webgpu' });
    }
    const ort: Ort = await import('onnxruntime-web/wasm');
    // One thread: threads need a cross-origin-isolated page, which the pages are not.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = { wasm: urls.wasm };
    found.push({ ort, backend: 'wasm' });
    return found;
  })();
  return runtimes;
}

/** A model's session on the first runtime that opens it: a graph WebGPU cannot take falls back to WebAssembly. */
function model(name: ModelName, url: string, runtime: Runtime): Promise<Model> {
  let loading = models.get(name);
  if (loading === undefined) {
    loading = (async () => {
      const failures: string[] = [];
      for (const { ort, backend } of await runtimesFor(runtime)) {
        try {
          return { session: await ort.InferenceSession.create(url, { executionProviders: [backend] }), ort, backend };
        } catch (error) {
          failures.push(`${backend}: ${(error as Error).message}`);
        }
      }
      throw new Error(`onnxruntime-web could not open the ${name} model (${failures.join('; ')})`);
    })();
    // A failed load is not kept: the next request tries again.
    loading.catch(() => models.delete(name));
    models.set(name, loading);
  }
  return loading;
}

function loaded(name: ModelName): Promise<Model> {
  const found = models.get(name);
  if (found === undefined) throw new Error(`the ${name} model is not loaded: ask for it with a load request first`);
  return found;
}

async function run(name: ModelName, tensor: TensorData): Promise<Float32Array> {
  return (await runWithDims(name, tensor)).data;
}

async function runWithDims(name: ModelName, tensor: TensorData): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const { session, ort } = await loaded(name);
  const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', tensor.data, tensor.dims) });
  const output = outputs[session.outputNames[0]];
  return { data: output.data as Float32Array, dims: output.dims };
}

/** The text lines the built-in detector finds in a frame (the core's detection at DEVICE_DETECTION_SIDE, as a device's crops are found), in reading order. */
function textBoxes(frame: Frame): Promise<Quad[]> {
  return findTextRegions(frame, (input) => run('detection', input));
}

const { orientation: orientationSettings, recognition: recognitionSettings } = pipelineConfigSchema.parse({});
/** The recogniser's CTC alphabet, from the load that asked for the recogniser. */
let alphabet: string[] | null = null;
/** The spelling pass with the server's lexicon, from the same load; none when the pipeline's defaults turn spelling off. */
let spelling: Spelling | undefined;

/** The pipeline's default spelling with the lexicon the server serves at `url`. */
async function spellingFrom(url: string): Promise<Spelling | undefined> {
  const settings = recognitionSettings.spelling;
  if (settings === null) return undefined;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  const lexicon = lexiconOf((await response.json()) as LexiconSource)(settings.words);
  return { lexicon, least: settings.least, shortest: settings.shortest };
}

/** A frame read as the server's document pipeline reads a regions upload: the lines found (`findTextRegions`), then read (`readLinesOnDevice`) with the pipeline's defaults. */
async function readFrame(frame: Frame): Promise<DeviceReading> {
  if (alphabet === null) throw new Error('the recogniser is not loaded: ask for it with its alphabet in a load request first');
  const started = performance.now();
  const boxes = await textBoxes(frame);
  const { spaceBoost, bucketWidth, dropScore } = recognitionSettings;
  const reader: LineReader = { spec: RECOGNITION_PREPROCESS, alphabet, options: spaceBoost === null ? RECOGNITION_POSTPROCESS : { ...RECOGNITION_POSTPROCESS, spaceBoost }, bucketWidth, spelling };
  const lines = await readLinesOnDevice(frame, boxes, (input) => runWithDims('recognition', input), reader, dropScore);
  const backends = [await loaded('detection'), await loaded('recognition')].map((one) => one.backend);
  return { boxes, ...lines, backend: backends.includes('wasm') ? 'wasm' : 'webgpu', ms: performance.now() - started };
}

/** The server's document pipeline's turn decision (`pageUpsideDown`), with the classifier in this worker. */
function upsideDown(frame: Frame, boxes: Quad[]): Promise<boolean> {
  return pageUpsideDown(frame, boxes, (crop) => run('orientation', toTensor(crop, ORIENTATION_PREPROCESS)), orientationSettings);
}

/**
 * The detector and the recogniser run once on a blank frame while the page still says "Preparing":
 * a session's first runs cost about twice a later one's (scripts/measure-device-reading.ts), and
 * the person would otherwise wait for them at the first capture.
 */
async function warmUp(): Promise<void> {
  const blank: Frame = { width: 320, height: 48, channels: 4, data: new Uint8ClampedArray(320 * 48 * 4).fill(255) };
  await textBoxes(blank);
  await runWithDims('recognition', toTensor(blank, RECOGNITION_PREPROCESS));
}

async function answer(request: ModelRequest): Promise<ModelAnswer> {
  switch (request.call) {
    case 'load': {
      if (request.alphabet !== undefined) alphabet = request.alphabet;
      if (request.lexicon !== undefined) spelling = await spellingFrom(request.lexicon);
      const ready = await Promise.all(Object.entries(request.models).map(([name, url]) => model(name as ModelName, url, request.runtime)));
      if (request.models.recognition !== undefined) await warmUp();
      return { id: request.id, call: 'load', backend: ready.some((one) => one.backend === 'wasm') ? 'wasm' : 'webgpu' };
    }
    case 'classify':
      return { id: request.id, call: 'classify', scores: Array.from(await run('orientation', request.tensor)) };
    case 'textBoxes': {
      const boxes = await textBoxes(request.frame);
      return { id: request.id, call: 'textBoxes', boxes, backend: (await loaded('detection')).backend };
    }
    case 'orientation': {
      const boxes = await textBoxes(request.frame);
      const backends = [await loaded('detection'), await loaded('orientation')].map((one) => one.backend);
      return { id: request.id, call: 'orientation', orientation: { lines: boxes.length, upsideDown: await upsideDown(request.frame, boxes), backend: backends.includes('wasm') ? 'wasm' : 'webgpu' } };
    }
    case 'read':
      return { id: request.id, call: 'read', reading: await readFrame(request.frame) };
  }
}

self.onmessage = async (event: MessageEvent<ModelRequest>) => {
  let reply: ModelAnswer;
  try {
    reply = await answer(event.data);
  } catch (error) {
    reply = { id: event.data.id, call: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
  // A reading's crops were made here for the page: their pixels move, not copied.
  const transfer = reply.call === 'read' ? [...new Set(reply.reading.crops.map((crop) => crop.data.buffer))].filter((buffer) => buffer instanceof ArrayBuffer) : [];
  self.postMessage(reply, { transfer });
};
