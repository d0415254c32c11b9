import { toGray, type Frame, type GrayFrame } from '../frame.js';
import { sampleEdges, type EdgeOptions, type EdgeSamples } from './edges.js';
import { measureLetters, type LetterSizes } from './letters.js';
import { stripProfiler, type StripProfiler } from './line-pitch.js';
import { resampleLuma, type LumaPlane, type Region } from './luma.js';

/**
 * The gate's hot passes, the ones that touch every pixel (the luma, the area resampling, the
 * edges, the letters) and the line pitch's strip profiles and autocorrelation. The JavaScript ones are the reference; src/core/quality/wasm holds the
 * same passes in WebAssembly with SIMD, tested to give the same bits (test/quality-wasm.test.ts).
 */
export interface QualityKernels {
  /** 'javascript' or 'wasm': which implementation answered, for timings and tests. */
  readonly name: string;
  toGray(frame: Frame): GrayFrame;
  resampleLuma(gray: GrayFrame, region: Region, scale: number): LumaPlane;
  sampleEdges(plane: LumaPlane, options: EdgeOptions): EdgeSamples;
  measureLetters(plane: LumaPlane, scale: number, noise: number): LetterSizes;
  stripProfiler: StripProfiler;
}

export const javascriptKernels: QualityKernels = { name: 'javascript', toGray, resampleLuma, sampleEdges, measureLetters, stripProfiler };
