import { toTensor, type PreprocessSpec } from '../../src/core/device.js';
import { loadOrientationClassifier } from '../../web/capture/orientation.js';

/**
 * The orientation classifier on the device, as the test bundles it for Chromium: each line (base64
 * RGBA) made into the classifier's tensor by the core and run by onnxruntime-web (WASM).
 */
export async function classifyLines(modelUrl: string, wasmUrl: string, spec: PreprocessSpec, lines: { width: number; height: number; rgba: string }[]): Promise<number[][]> {
  const classifier = await loadOrientationClassifier(modelUrl, wasmUrl);
  const scores: number[][] = [];
  for (const line of lines) {
    const data = Uint8ClampedArray.from(atob(line.rgba), (c) => c.charCodeAt(0));
    const tensor = toTensor({ width: line.width, height: line.height, channels: 4, data }, spec);
    scores.push(await classifier.run(tensor));
  }
  return scores;
}
