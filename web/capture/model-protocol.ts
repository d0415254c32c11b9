import type { DeviceLines, DeviceReadingSettings, Frame, Quad } from '../../src/core/device.ts';

export { DEVICE_DETECTION_SIDE } from '../../src/core/device.ts';

/** Where onnxruntime-web ran the device's models: WebGPU where the browser has an adapter and the models open on it, else WebAssembly. */
export type ModelBackend = 'webgpu' | 'wasm';

/** Where the worker finds the models and onnxruntime-web's WebAssembly. */
export interface ModelUrls {
  detection: string;
  orientation: string;
  /** The built-in recogniser, for a device that reads its crops (policy `device`). */
  recognition: string;
  /** The WebAssembly-only build (`ort-wasm-simd-threaded.wasm`). */
  wasm: string;
  /** The WebGPU build (`ort-wasm-simd-threaded.asyncify.wasm`); without it the models stay on WebAssembly. */
  webgpuWasm?: string;
}

export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export type ModelName = 'detection' | 'orientation' | 'recognition';

/**
 * What the device's models made of one frame: the lines the detector found, whether the page is
 * upside down, and, when asked, each line cut as it is sent and read.
 */
export interface Examined {
  /** The lines' quads in the frame's coordinates, in reading order. */
  boxes: Quad[];
  /** The 0/180 vote; null without the classifier loaded or without lines to vote on. */
  upsideDown: boolean | null;
  /** The lines read: asked for, with the recogniser loaded, on a page that is not upside down; else null. */
  reading: DeviceLines | null;
  /** Where the models that ran on this frame ran: WebAssembly when any of them did. */
  backend: ModelBackend;
  /** How long the worker took over the frame (detection, vote, cutting, recognition), in milliseconds. */
  ms: number;
}

/** onnxruntime-web's binaries: the first load in a worker picks the runtime, later ones share it. */
export type Runtime = Pick<ModelUrls, 'wasm' | 'webgpuWasm'>;

/** What the recogniser needs besides its weights: its CTC alphabet and where the spelling pass's lexicon is served. */
export interface RecogniserSetup {
  alphabet: string[];
  lexicon: string;
}

/** What the page asks the model worker; each request carries an id its answer repeats. */
export type ModelRequest =
  | { id: number; call: 'load'; models: Partial<Record<ModelName, string>>; runtime: Runtime; settings?: DeviceReadingSettings; recogniser?: RecogniserSetup }
  | { id: number; call: 'classify'; tensor: TensorData }
  | { id: number; call: 'examine'; frame: Frame; read: boolean };

export type ModelAnswer =
  | { id: number; call: 'load'; backend: ModelBackend }
  | { id: number; call: 'classify'; scores: number[] }
  | { id: number; call: 'examine'; examined: Examined }
  | { id: number; call: 'failed'; message: string };
