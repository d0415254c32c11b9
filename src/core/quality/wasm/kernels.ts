import type { Frame, GrayFrame } from '../../frame.js';
import { MAX_SAMPLES, MIN_STEEPNESS, significantContrastOf, type EdgeOptions, type EdgeSamples } from '../edges.js';
import { javascriptKernels, type QualityKernels } from '../kernels.js';
import { darknessRadius, DARKNESS_SHARE, lettersOf, MIN_DARKNESS, NOISE_MULTIPLE, type LetterSizes } from '../letters.js';
import { STRIP_SHARE, type Marks, type StripProfiles } from '../line-pitch.js';
import { areaWeights, type LumaPlane, type Region } from '../luma.js';
import { QUALITY_KERNELS_WASM } from './module.js';

/** What the kernels use of WebAssembly, typed here since the core's TypeScript libraries (ES2022, no DOM) do not declare it. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export interface WasmRuntime {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }>;
}

/** The functions wasm/quality-kernels.ts exports; pointers are byte offsets in its memory. */
interface Exports {
  memory: WasmMemory;
  heapBase(): number;
  luma(src: number, dst: number, pixels: number, channels: number): void;
  resampleRows(src: number, stride: number, inWidth: number, rows: number, cell: number, share: number, rest: number, scaled: number, out: number, outWidth: number): void;
  resampleColumns(src: number, width: number, height: number, cell: number, share: number, norm: number, out: number): void;
  transpose(src: number, dst: number, width: number, height: number): void;
  quietRange(data: number, lines: number, length: number, window: number, bins: number): number;
  resetEdges(): void;
  edgesFound(): number;
  edgesPaired(): number;
  scanLines(
    data: number,
    lines: number,
    length: number,
    gradient: number,
    window: number,
    minGradient: number,
    significantContrast: number,
    pairDistance: number,
    minSteepness: number,
    posLine: number,
    posStep: number,
    capacity: number,
    position: number,
    low: number,
    high: number,
    steepness: number,
  ): void;
  darkMarks(data: number, width: number, height: number, radius: number, minDarkness: number, darknessShare: number, noiseFloor: number, integral: number, mask: number): void;
  stripProfiles(rows: number, strips: number, offsets: number, count: number, profiles: number, stripCount: number, height: number, slope: number): number;
  autocorrelation(profiles: number, strips: number, height: number, lags: number, stripShare: number, sums: number, raw: number, correlation: number): number;
  components(mask: number, width: number, height: number, parent: number, id: number, left: number, right: number, top: number, bottom: number, area: number): number;
}

const PAGE = 65536;

/**
 * The module's memory as a stack of blocks for one pass: reset at the start of every pass, grown
 * (never shrunk) to the largest pass seen. Views are made after the last allocation of a pass,
 * since growing detaches the old buffer.
 */
class Arena {
  private top: number;

  constructor(
    private readonly memory: WasmMemory,
    private readonly base: number,
  ) {
    this.top = base;
  }

  reset(): void {
    this.top = this.base;
  }

  alloc(bytes: number): number {
    const at = (this.top + 15) & ~15;
    this.top = at + bytes;
    const missing = this.top - this.memory.buffer.byteLength;
    if (missing > 0) this.memory.grow(Math.ceil(missing / PAGE));
    return at;
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }
}

/** The kernels of one WebAssembly instance. Each pass is synchronous, so one instance serves every gate of its thread. */
class WasmKernels implements QualityKernels {
  readonly name = 'wasm';
  private readonly arena: Arena;

  constructor(private readonly wasm: Exports) {
    this.arena = new Arena(wasm.memory, wasm.heapBase());
  }

  toGray = (frame: Frame): GrayFrame => {
    const { width, height, channels } = frame;
    const pixels = width * height;
    const arena = this.arena;
    arena.reset();
    const src = arena.alloc(pixels * channels);
    const dst = arena.alloc(pixels);
    new Uint8Array(arena.buffer, src, pixels * channels).set(frame.data);
    this.wasm.luma(src, dst, pixels, channels);
    return { width, height, data: new Uint8Array(arena.buffer, dst, pixels).slice() };
  };

  resampleLuma = (gray: GrayFrame, region: Region, scale: number): LumaPlane => {
    // The kernel reads bytes; a float luma (a caller's own) takes the reference path.
    if (!(gray.data instanceof Uint8Array)) return javascriptKernels.resampleLuma(gray, region, scale);
    const outWidth = Math.max(1, Math.round(region.width * Math.min(1, scale)));
    const outHeight = Math.max(1, Math.round(region.height * Math.min(1, scale)));
    const across = areaWeights(region.width, outWidth);
    const down = areaWeights(region.height, outHeight);
    const arena = this.arena;
    arena.reset();
    const src = arena.alloc(region.height * gray.width);
    const acrossCell = arena.alloc(region.width * 4);
    const acrossShare = arena.alloc(region.width * 8);
    const acrossRest = arena.alloc(region.width * 8);
    const scaledBytes = arena.alloc(256 * 8);
    // Pairs of rows, interleaved, and a spare pair (see the kernel).
    const rowsLength = outWidth * 2 * (Math.ceil(region.height / 2) + 1);
    const rows = arena.alloc(rowsLength * 4);
    const downCell = arena.alloc(region.height * 4);
    const downShare = arena.alloc(region.height * 4);
    const out = arena.alloc(outWidth * outHeight * 4);
    const buffer = arena.buffer;
    new Uint8Array(buffer, src, region.height * gray.width).set(gray.data.subarray(region.y * gray.width, (region.y + region.height) * gray.width));
    new Int32Array(buffer, acrossCell, region.width).set(across.cell);
    const share = new Float64Array(buffer, acrossShare, region.width);
    const rest = new Float64Array(buffer, acrossRest, region.width);
    for (let x = 0; x < region.width; x++) {
      share[x] = across.share[x];
      rest[x] = 1 - across.share[x];
    }
    const norm = outWidth / region.width;
    const scaled = new Float64Array(buffer, scaledBytes, 256);
    for (let b = 0; b < 256; b++) scaled[b] = b * norm;
    new Float32Array(buffer, rows, rowsLength).fill(0);
    new Int32Array(buffer, downCell, region.height).set(down.cell);
    new Float32Array(buffer, downShare, region.height).set(down.share);
    new Float32Array(buffer, out, outWidth * outHeight).fill(0);
    this.wasm.resampleRows(src + region.x, gray.width, region.width, region.height, acrossCell, acrossShare, acrossRest, scaledBytes, rows, outWidth);
    this.wasm.resampleColumns(rows, outWidth, region.height, downCell, downShare, outHeight / region.height, out);
    return { width: outWidth, height: outHeight, data: new Float32Array(buffer, out, outWidth * outHeight).slice() };
  };

  /** The reference's sampleEdges: the background from both directions, then rows, then columns (scanned as rows of the transpose). */
  sampleEdges = (plane: LumaPlane, options: EdgeOptions): EdgeSamples => {
    const { width, height } = plane;
    const pixels = width * height;
    const samples = Math.min(MAX_SAMPLES, pixels);
    const arena = this.arena;
    arena.reset();
    const data = arena.alloc(pixels * 4);
    const transposed = arena.alloc(pixels * 4);
    const gradient = arena.alloc((Math.max(width, height) + 8) * 4);
    const bins = arena.alloc(1024 * 4);
    const position = arena.alloc(samples * 4);
    const low = arena.alloc(samples * 4);
    const high = arena.alloc(samples * 4);
    const steepness = arena.alloc(samples * 4);
    new Float32Array(arena.buffer, data, pixels).set(plane.data);
    const wasm = this.wasm;
    wasm.transpose(data, transposed, width, height);
    const ranges = [wasm.quietRange(data, height, width, options.window, bins), wasm.quietRange(transposed, width, height, options.window, bins)].filter((r) => r >= 0);
    const backgroundRange = ranges.length === 0 ? 0 : Math.min(...ranges);
    const significantContrast = significantContrastOf(backgroundRange, options);
    const minGradient = significantContrast / (2 * options.window + 1);
    const scan = (lines: number, length: number, from: number, posLine: number, posStep: number) =>
      wasm.scanLines(from, lines, length, gradient, options.window, minGradient, significantContrast, options.pairDistance, MIN_STEEPNESS, posLine, posStep, samples, position, low, high, steepness);
    wasm.resetEdges();
    scan(height, width, data, width, 1);
    const rowEdges = wasm.edgesFound();
    scan(width, height, transposed, 1, width);
    const count = wasm.edgesFound();
    const buffer = arena.buffer;
    return {
      count,
      rowEdges,
      position: new Int32Array(buffer, position, count).slice(),
      low: new Float32Array(buffer, low, count).slice(),
      high: new Float32Array(buffer, high, count).slice(),
      steepness: new Float32Array(buffer, steepness, count).slice(),
      paired: wasm.edgesPaired(),
      scanLines: width + height,
      backgroundRange,
      significantContrast,
    };
  };

  measureLetters = (plane: LumaPlane, scale: number, noise: number): LetterSizes => {
    const { width, height } = plane;
    if (width < 3 || height < 3) return { count: 0, size: 0, height: 0 };
    const pixels = width * height;
    // Components of an 8-connected mask are apart by a pixel at least: one per 2 x 2 block at most.
    const most = Math.ceil(width / 2) * Math.ceil(height / 2);
    const arena = this.arena;
    arena.reset();
    const data = arena.alloc(pixels * 4);
    const integral = arena.alloc((width + 1) * (height + 1) * 8);
    const mask = arena.alloc(pixels);
    const parent = arena.alloc(pixels * 4);
    const id = arena.alloc(pixels * 4);
    const sides = [0, 1, 2, 3, 4].map(() => arena.alloc(most * 4));
    new Float32Array(arena.buffer, data, pixels).set(plane.data);
    const wasm = this.wasm;
    wasm.darkMarks(data, width, height, darknessRadius(width, height), MIN_DARKNESS, DARKNESS_SHARE, NOISE_MULTIPLE * noise, integral, mask);
    const count = wasm.components(mask, width, height, parent, id, sides[0], sides[1], sides[2], sides[3], sides[4]);
    const [left, right, top, bottom, area] = sides.map((at) => new Int32Array(arena.buffer, at, count).slice());
    return lettersOf({ count, left, right, top, bottom, area }, width, height, scale);
  };

  /** The marks and their profiles stay in the module's memory from one slope to the next: valid until the next pass of these kernels. */
  stripProfiler = (marks: Marks, strips: number, height: number): StripProfiles => {
    const arena = this.arena;
    arena.reset();
    const rows = arena.alloc(marks.count * 4);
    const stripOf = arena.alloc(marks.count * 4);
    const offsets = arena.alloc(marks.count * 4);
    const profiles = arena.alloc(strips * height * 4 + 16);
    const sums = arena.alloc(strips * 8);
    const buffer = arena.buffer;
    new Int32Array(buffer, rows, marks.count).set(marks.row.subarray(0, marks.count));
    new Int32Array(buffer, stripOf, marks.count).set(marks.strip.subarray(0, marks.count));
    new Float32Array(buffer, offsets, marks.count).set(marks.offset.subarray(0, marks.count));
    const wasm = this.wasm;
    const fill = (slope: number) => wasm.stripProfiles(rows, stripOf, offsets, marks.count, profiles, strips, height, slope);
    return {
      peakiness: fill,
      autocorrelation: (slope, lags) => {
        fill(slope);
        const raw = arena.alloc((lags + 2) * 8);
        const correlation = arena.alloc((lags + 1) * 8);
        const energy = wasm.autocorrelation(profiles, strips, height, lags, STRIP_SHARE, sums, raw, correlation);
        return { correlation: new Float64Array(arena.buffer, correlation, lags + 1).slice(), energy };
      },
    };
  };
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Instantiates the kernels with `runtime` (the global WebAssembly); rejects where it is missing or lacks SIMD. */
export async function instantiateWasmKernels(runtime: WasmRuntime | undefined): Promise<QualityKernels> {
  if (runtime === undefined) throw new Error('WebAssembly is not available here');
  const { instance } = await runtime.instantiate(decodeBase64(QUALITY_KERNELS_WASM), {});
  return new WasmKernels(instance.exports as Exports);
}

let instantiated: Promise<QualityKernels> | null = null;

/**
 * The WebAssembly kernels, instantiated once per thread (asynchronously: browsers refuse to compile
 * modules over 4 KB synchronously on their main thread).
 */
export function loadWasmKernels(): Promise<QualityKernels> {
  instantiated ??= instantiateWasmKernels((globalThis as { WebAssembly?: WasmRuntime }).WebAssembly);
  return instantiated;
}

/** Which kernels the gate runs: WebAssembly where it can (`auto`), or one of them by name. */
export type KernelChoice = 'auto' | 'wasm' | 'javascript';

/** The kernels for `choice`; `auto` falls back to the JavaScript reference where WebAssembly SIMD cannot run. */
export async function qualityKernels(choice: KernelChoice, load: () => Promise<QualityKernels> = loadWasmKernels): Promise<QualityKernels> {
  if (choice === 'javascript') return javascriptKernels;
  if (choice === 'wasm') return load();
  return load().catch(() => javascriptKernels);
}
