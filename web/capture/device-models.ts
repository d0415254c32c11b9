import * as ort from 'onnxruntime-web/wasm';
import { cropQuad, DETECTION_POSTPROCESS, DETECTION_PREPROCESS, extractTextBoxes, ORIENTATION_PREPROCESS, sortReadingOrder, toTensor, type Frame } from '../../src/core/device.js';
import { pipelineConfigSchema } from '../../src/pipeline/config.js';
import { isUpsideDown, lineLength, type LineVote } from '../../src/pipeline/orientation.js';

/** The long side the device's detector reads a frame at: the server's is 960; a third of the pixels is enough to find lines to vote with. */
export const DEVICE_DETECTION_SIDE = 640;

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

/**
 * Whether the page in a frame is upside down, decided on the device as the server's document
 * pipeline decides it: the built-in detector (at DEVICE_DETECTION_SIDE) finds the lines, each line's
 * crop goes through the 0/180 classifier, and the page turns when more than the configured share
 * of its text (by line length) reads as 180 degrees. The tensors are the core's, the vote the pipeline's.
 */
export async function loadPageOrientation(urls: ModelUrls): Promise<(frame: Frame) => Promise<PageOrientation>> {
  const [detector, classify] = await Promise.all([session(urls.detection, urls.wasm).then(runner), loadLineClassifier(urls)]);
  const settings = pipelineConfigSchema.parse({}).orientation;
  const spec = { ...DETECTION_PREPROCESS, resize: { mode: 'limit-long-side' as const, target: DEVICE_DETECTION_SIDE, multipleOf: 32 } };
  return async (frame) => {
    const input = toTensor(frame, spec);
    const map = await detector(input);
    const [height, width] = input.dims.slice(2);
    const boxes = sortReadingOrder(extractTextBoxes({ data: Float32Array.from(map), width, height }, DETECTION_POSTPROCESS, frame.width, frame.height)).map((found) => found.box);
    const votes: LineVote[] = [];
    for (const box of boxes) {
      const [upright, over] = await classify(toTensor(cropQuad(frame, box), ORIENTATION_PREPROCESS));
      votes.push({ label: over > upright ? '180' : '0', confidence: Math.max(upright, over), length: lineLength(box) });
    }
    return { lines: boxes.length, upsideDown: isUpsideDown(votes, settings.lineThreshold, settings.upsideDownShare) };
  };
}
