/**
 * The resamplers a manifest can name, on a 1920 x 1080 frame shrunk to 640 x 360 (a letterbox's
 * resize for a 640 model) and a 224 x 224 crop's 256 x 256 source, against the built-in models'
 * resize (resizeBilinear, OpenCV's INTER_LINEAR positions with scalar rounding) in the same run.
 */
import type { Frame } from '../src/core/frame.js';
import { resizeWith } from '../src/core/preprocess/interpolation.js';
import type { Interpolation } from '../src/core/preprocess/spec.js';
import { median, timeInTurn, type Benchmark, type Figure } from './lib.js';

function noiseFrame(width: number, height: number): Frame {
  const data = new Uint8Array(width * height * 3);
  let seed = 16;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    data[i] = seed >>> 24;
  }
  return { width, height, channels: 3, data };
}

const INTERPOLATIONS: Interpolation[] = ['opencv-linear', 'opencv-area', 'opencv-nearest', 'pil-bilinear', 'pil-bicubic'];

export const resizeBenchmark: Benchmark = {
  name: 'resize',
  describe: 'each interpolation vs the built-in resize (ratio = its time / the built-in one), 1920 x 1080 -> 640 x 360 and -> 256 x 256',
  async run({ quick }) {
    const rounds = quick ? 2 : 15;
    const frame = quick ? noiseFrame(192, 108) : noiseFrame(1920, 1080);
    const figures: Figure[] = [];
    for (const [label, width, height] of [['640x360', quick ? 64 : 640, quick ? 36 : 360], ['256x256', quick ? 26 : 256, quick ? 26 : 256]] as const) {
      const cases: Record<string, () => unknown> = { builtin: () => resizeWith(frame, width, height) };
      for (const interpolation of INTERPOLATIONS) cases[interpolation] = () => resizeWith(frame, width, height, interpolation);
      const samples = await timeInTurn(rounds, cases);
      const baseline = median(samples.builtin);
      figures.push({ name: `resize.${label}.builtin_ms`, value: baseline, unit: 'ms' });
      for (const interpolation of INTERPOLATIONS) {
        figures.push({ name: `resize.${label}.${interpolation}_ratio`, value: median(samples[interpolation]) / baseline, unit: 'x', note: `${median(samples[interpolation]).toFixed(1)} ms` });
      }
    }
    return figures;
  },
};
