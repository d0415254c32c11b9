import * as ort from 'onnxruntime-web/wasm';
import { cropQuad, findTextRegions, ORIENTATION_PREPROCESS, toTensor, type Frame, type Quad } from '../../src/core/device.js';
import { pipelineConfigSchema } from '../../src/pipeline/config.js';
import { isUpsideDown, lineLength, type LineVote } from '../../src/pipeline/orientation.js';

/** The built-in 0/180 text-line classifier's scores for one tensor, in the order of its labels (0, 180). */
export type LineClassifier = (tensor: { data: Float32Array; dims: number[] }) => Promise<number[]>;

export interface PageOrientation {
  lines: number;
  upsideDown: boolean;
}

/** Where the page finds the models and onnxruntime-web's WebAssembly. */
export interface ModelUrls {
  detection: string;
  orientation: string;
  wasm: string;
}

/**
 * A session in onnxruntime-web's WebAssembly backend with one thread (threads need a
 * cross-origin-isolated page, which the pages are not).
 */
async function session(model: string, wasm: string): Promise<ort.InferenceSession> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = { wasm };
  return ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
}

function runner(model: ort.InferenceSession): LineClassifier {
  const [input] = model.inputNames;
  const [output] = model.outputNames;
  return async (tensor) => {
    const outputs = await model.run({ [input]: new ort.Tensor('float32', tensor.data, tensor.dims) });
    return Array.from(outputs[output].data as Float32Array);
  };
}

export async function loadLineClassifier(urls: Pick<ModelUrls, 'orientation' | 'wasm'>): Promise<LineClassifier> {
  return runner(await session(urls.orientation, urls.wasm));
}

/** The built-in text detector at the core's DEVICE_DETECTION_SIDE: a frame's text lines, in its own coordinates and reading order. */
export async function loadTextDetector(urls: Pick<ModelUrls, 'detection' | 'wasm'>): Promise<(frame: Frame) => Promise<Quad[]>> {
  const detector = runner(await session(urls.detection, urls.wasm));
  return (frame) => findTextRegions(frame, detector);
}

/**
 * Whether the page in a frame is upside down, decided on the device as the server's document
 * pipeline decides it: the built-in detector (at DEVICE_DETECTION_SIDE) finds the lines, each line's
 * crop goes through the 0/180 classifier, and the page turns when more than the configured share
 * of its text (by line length) reads as 180 degrees. The tensors are the core's, the vote the pipeline's.
 */
export async function loadPageOrientation(urls: ModelUrls): Promise<(frame: Frame) => Promise<PageOrientation>> {
  const [detect, classify] = await Promise.all([loadTextDetector(urls), loadLineClassifier(urls)]);
  const settings = pipelineConfigSchema.parse({}).orientation;
  return async (frame) => {
    const boxes = await detect(frame);
    const votes: LineVote[] = [];
    for (const box of boxes) {
      const [upright, over] = await classify(toTensor(cropQuad(frame, box), ORIENTATION_PREPROCESS));
      votes.push({ label: over > upright ? '180' : '0', confidence: Math.max(upright, over), length: lineLength(box) });
    }
    return { lines: boxes.length, upsideDown: isUpsideDown(votes, settings.lineThreshold, settings.upsideDownShare) };
  };
}
