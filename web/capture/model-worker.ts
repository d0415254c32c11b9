import type * as Ort from 'onnxruntime-web';
import { findTextRegions, ORIENTATION_PREPROCESS, readLinesOnDevice, RECOGNITION_POSTPROCESS, RECOGNITION_PREPROCESS, toTensor, type DeviceLines, type DeviceReadingSettings, type Frame, type LineReader, type Quad, type Spelling } from '../../src/core/device.ts';
// Only the model worker spells, so only its bundle carries Hunspell.
import { lexiconOf, type LexiconSource } from '../../src/core/text/lexicon.ts';
import { pageUpsideDown } from '../../src/pipeline/orientation.ts';
import { type Examined, type ModelAnswer, type ModelBackend, type ModelName, type ModelRequest, type RecogniserSetup, type Runtime, type TensorData } from './model-protocol.ts';

/**
 * The capture page's on-device models, off the page's thread: onnxruntime-web compiles its
 * WebAssembly, opens the sessions and runs them here, so the page keeps guiding while they load
 * and run. The detector's tensor, its boxes, the vote, the line crops and their reading are made
 * here too, each frame's lines found once for all of them.
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

/** The session being opened last: onnxruntime-web's WebGPU build refuses to open one while another opens ("another WebGPU EP inference session is being created"). */
let opening: Promise<unknown> = Promise.resolve();

/** Opens sessions one after another, so that models loaded together all get the WebGPU they asked for. */
function inTurn<T>(open: () => Promise<T>): Promise<T> {
  const next = opening.then(open, open);
  opening = next.catch(() => undefined);
  return next;
}

/** A model's session on the first runtime that opens it: a graph WebGPU cannot take falls back to WebAssembly. */
function model(name: ModelName, url: string, runtime: Runtime): Promise<Model> {
  let loading = models.get(name);
  if (loading === undefined) {
    loading = (async () => {
      const failures: string[] = [];
      for (const { ort, backend } of await runtimesFor(runtime)) {
        try {
          return { session: await inTurn(() => ort.InferenceSession.create(url, { executionProviders: [backend] })), ort, backend };
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

/** The server's reading settings (DEVICE_MODELS_PATH), from the load that asked for the classifier or the recogniser. */
let settings: DeviceReadingSettings | null = null;
/** The recogniser's CTC alphabet and the spelling pass over the server's lexicon, from the load that asked for the recogniser. */
let recogniser: { alphabet: string[]; spelling: Spelling | undefined } | null = null;

/** The server's spelling pass: its settings, with the lexicon it serves at `url`; none when its settings turn spelling off. */
async function spellingFrom(spelling: DeviceReadingSettings['recognition']['spelling'], url: string): Promise<Spelling | undefined> {
  if (spelling === null) return undefined;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  const lexicon = lexiconOf((await response.json()) as LexiconSource)(spelling.words);
  return { lexicon, least: spelling.least, shortest: spelling.shortest };
}

/** The lines found, read as the server's document pipeline reads a regions upload (`readLinesOnDevice`), with its settings. */
function readLines(frame: Frame, boxes: Quad[], { alphabet, spelling }: NonNullable<typeof recogniser>, { bucketWidth, spaceBoost, dropScore }: DeviceReadingSettings['recognition']): Promise<DeviceLines> {
  const reader: LineReader = { spec: RECOGNITION_PREPROCESS, alphabet, options: spaceBoost === null ? RECOGNITION_POSTPROCESS : { ...RECOGNITION_POSTPROCESS, spaceBoost }, bucketWidth, spelling };
  return readLinesOnDevice(frame, boxes, (input) => runWithDims('recognition', input), reader, dropScore);
}

/**
 * One frame through the loaded models, its lines found once: the detector, then the server's 0/180
 * vote (`pageUpsideDown`) when the classifier is loaded, then, when asked and the page is upright,
 * the lines read.
 */
async function examine(frame: Frame, read: boolean): Promise<Examined> {
  const started = performance.now();
  const ran = [await loaded('detection')];
  const boxes = await textBoxes(frame);
  let upsideDown: boolean | null = null;
  if (models.has('orientation') && boxes.length > 0) {
    ran.push(await loaded('orientation'));
    upsideDown = await pageUpsideDown(frame, boxes, (crop) => run('orientation', toTensor(crop, ORIENTATION_PREPROCESS)), readingSettings().orientation);
  }
  let reading: DeviceLines | null = null;
  if (read && upsideDown !== true) {
    if (recogniser === null || !models.has('recognition')) throw new Error('the recogniser is not loaded: ask for it with its alphabet and lexicon in a load request first');
    ran.push(await loaded('recognition'));
    reading = await readLines(frame, boxes, recogniser, readingSettings().recognition);
  }
  return { boxes, upsideDown, reading, backend: ran.some((one) => one.backend === 'wasm') ? 'wasm' : 'webgpu', ms: performance.now() - started };
}

function readingSettings(): DeviceReadingSettings {
  if (settings === null) throw new Error("the server's reading settings are not loaded: send them with the load request");
  return settings;
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

async function load(wanted: Partial<Record<ModelName, string>>, runtime: Runtime, setup: { settings?: DeviceReadingSettings; recogniser?: RecogniserSetup }): Promise<ModelBackend> {
  if (setup.settings !== undefined) settings = setup.settings;
  if (setup.recogniser !== undefined) {
    const { alphabet, lexicon } = setup.recogniser;
    recogniser = { alphabet, spelling: await spellingFrom(readingSettings().recognition.spelling, lexicon) };
  }
  const ready = await Promise.all(Object.entries(wanted).map(([name, url]) => model(name as ModelName, url, runtime)));
  if (wanted.recognition !== undefined) await warmUp();
  return ready.some((one) => one.backend === 'wasm') ? 'wasm' : 'webgpu';
}

async function answer(request: ModelRequest): Promise<ModelAnswer> {
  switch (request.call) {
    case 'load':
      return { id: request.id, call: 'load', backend: await load(request.models, request.runtime, request) };
    case 'classify':
      return { id: request.id, call: 'classify', scores: Array.from(await run('orientation', request.tensor)) };
    case 'examine':
      return { id: request.id, call: 'examine', examined: await examine(request.frame, request.read) };
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
  const crops = reply.call === 'examine' ? (reply.examined.reading?.crops ?? []) : [];
  const transfer = [...new Set(crops.map((crop) => crop.data.buffer))].filter((buffer) => buffer instanceof ArrayBuffer);
  self.postMessage(reply, { transfer });
};
