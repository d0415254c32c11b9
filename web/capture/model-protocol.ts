import type { DeviceLines, Frame, Quad } from '../../src/core/device.ts';

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

export interface PageOrientation {
  lines: number;
  upsideDown: boolean;
  /** Where the detector and the classifier ran for this answer. */
  backend: ModelBackend;
}

export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export type ModelName = 'detection' | 'orientation' | 'recognition';

/** A frame read on the device: the lines the detector found, cut as they are sent, and the recogniser's reading of each. */
export interface DeviceReading extends DeviceLines {
  /** The lines' quads in the frame's coordinates, in reading order. */
  boxes: Quad[];
  backend: ModelBackend;
  /** How long the detector, the cutting and the recogniser took in the worker, in milliseconds. */
  ms: number;
}

/** onnxruntime-web's binaries: the first load in a worker picks the runtime, later ones share it. */
export type Runtime = Pick<ModelUrls, 'wasm' | 'webgpuWasm'>;

/** What the page asks the model worker; each request carries an id its answer repeats. */
export type ModelRequest =
  | { id: number; call: 'load'; models: Partial<Record<ModelName, string>>; runtime: Runtime; alphabet?: string[]; lexicon?: string }
  | { id: number; call: 'classify'; tensor: TensorData }
  | { id: number; call: 'textBoxes'; frame: Frame }
  | { id: number; call: 'orientation'; frame: Frame }
  | { id: number; call: 'read'; frame: Frame };

export type ModelAnswer =
  | { id: number; call: 'load'; backend: ModelBackend }
  | { id: number; call: 'classify'; scores: number[] }
  | { id: number; call: 'textBoxes'; boxes: Quad[]; backend: ModelBackend }
  | { id: number; call: 'orientation'; orientation: PageOrientation }
  | { id: number; call: 'read'; reading: DeviceReading }
  | { id: number; call: 'failed'; message: string };
