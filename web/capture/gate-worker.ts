import { perceptualHash, qualityConfigSchema, qualityKernels, runQualityGate, toGray } from '../../src/core/device.ts';
import type { QualityReport } from '../../src/core/device.ts';

/** One downscaled frame in, the gate's report and the frame's perceptual hash out, off the page's thread. */
export interface GateRequest {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface GateAnswer {
  report: QualityReport;
  phash: string;
  /** Milliseconds the gate and the hash took on this device, on a frame this size. */
  ms: number;
  width: number;
  height: number;
}

const config = qualityConfigSchema.parse({});
// The per-pixel passes in WebAssembly where the browser has SIMD, else the JavaScript reference: the same report either way.
const kernels = qualityKernels('auto');

self.onmessage = async (event: MessageEvent<GateRequest>) => {
  const started = performance.now();
  const frame = { width: event.data.width, height: event.data.height, channels: 4 as const, data: event.data.data };
  const gray = toGray(frame);
  const report = runQualityGate(frame, config, gray, await kernels);
  const answer: GateAnswer = { report, phash: perceptualHash(gray), ms: performance.now() - started, width: frame.width, height: frame.height };
  self.postMessage(answer);
};
