/**
 * The gate in WebAssembly against the gate in JavaScript (the same checks on the same decoded
 * 1080p frames: a photo-like one and a document page), and the whole gate (decode + every check)
 * on a 1080p JPEG against OpenCV's cv2.imdecode + variance of the Laplacian on the same file, run
 * beside it in a python3 process (Debian: apt-get install python3-opencv; "not available" without);
 * then the gate-only path's reduced decode on 12 MP JPEGs against the full decode and OpenCV.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../src/config/load.js';
import { createVisionops } from '../src/app/visionops.js';
import type { Frame } from '../src/core/frame.js';
import { runQualityGate } from '../src/core/quality/gate.js';
import { javascriptKernels, type QualityKernels } from '../src/core/quality/kernels.js';
import { loadWasmKernels } from '../src/core/quality/wasm/kernels.js';
import type { StageRunner } from '../src/pipeline/runner.js';
import { checkImage } from '../src/pipeline/service.js';
import { asJpeg, randomLines, renderDocument } from '../test/fixtures/documents.js';
import { median, photoLikeJpeg, timeInTurn, type Benchmark, type Figure } from './lib.js';

const OPENCV = `
import sys, time, statistics
import cv2, numpy as np
data = np.fromfile(sys.argv[1], dtype=np.uint8)
rounds = int(sys.argv[2])
def decode():
    return cv2.imdecode(data, cv2.IMREAD_COLOR)
def once():
    gray = cv2.cvtColor(decode(), cv2.COLOR_BGR2GRAY)
    return cv2.Laplacian(gray, cv2.CV_64F).var()
once()
whole, decoding = [], []
for _ in range(rounds):
    start = time.perf_counter()
    once()
    whole.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    decode()
    decoding.append((time.perf_counter() - start) * 1000)
print(statistics.median(whole), statistics.median(decoding))
`;

/** Debian's python3-opencv lives in the system python, which a pyenv or venv python3 on the PATH cannot import. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

/** OpenCV's medians: decode + Laplacian variance, and the decode alone; null without python3 and cv2. */
async function openCvMedians(file: string, rounds: number): Promise<{ whole: number; decode: number } | null> {
  for (const python of PYTHONS) {
    try {
      const { stdout } = await promisify(execFile)(python, ['-c', OPENCV, file, String(rounds)]);
      const [whole, decode] = stdout.trim().split(/\s+/).map(Number);
      return { whole, decode };
    } catch {
      // Not there, or without cv2: try the next.
    }
  }
  return null;
}

async function decoded(jpeg: Buffer): Promise<Frame> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** A 1080p frame of a printed page: 24 lines of 28 px text. */
async function documentJpeg(width: number, height: number): Promise<Buffer> {
  const page = await renderDocument({ lines: randomLines(9001, 24), fontSize: 28, width });
  return asJpeg(await sharp(page).resize(width, height, { fit: 'fill' }).toBuffer(), 85);
}

/**
 * The gate-only path on a 12 MP JPEG (4000 x 3000, a phone camera's): decoded at a third for the
 * overview (and whole again for the tiles when there is content), against the full decode the
 * predict path makes, and against OpenCV on the same file.
 */
async function largeFigures(name: string, jpeg: Buffer, rounds: number, runner: StageRunner, dir: string): Promise<Figure[]> {
  const file = join(dir, `${name}.jpg`);
  await writeFile(file, jpeg);
  const before = await openCvMedians(file, rounds);
  const reducedAt: boolean[] = [];
  const samples = await timeInTurn(rounds, {
    reduced: async () => {
      const { image } = await runner.run(jpeg, { until: 'gate', decode: 'reduced' });
      reducedAt.push(image.reduced);
    },
    full: () => runner.run(jpeg, { until: 'gate', decode: 'full' }),
  });
  const afterwards = await openCvMedians(file, rounds);
  const reduced = median(samples.reduced);
  const full = median(samples.full);
  const figures: Figure[] = [
    { name: `gate.${name}.reduced_ms`, value: reduced, unit: 'ms', note: reducedAt.every(Boolean) ? 'the gate-only path, decoded at a third' : 'the gate-only path (not reduced: the image is too small for it)' },
    { name: `gate.${name}.full_decode_ms`, value: full, unit: 'ms', note: 'the same gate after a full decode, as the predict path decodes' },
    { name: `gate.${name}.reduced_speedup`, value: full / reduced, unit: 'x' },
  ];
  if (before !== null && afterwards !== null) {
    const opencv = (before.whole + afterwards.whole) / 2;
    figures.push({ name: `gate.${name}.opencv_ms`, value: opencv, unit: 'ms' }, { name: `gate.${name}.ratio_to_opencv`, value: reduced / opencv, unit: 'x', note: 'the gate-only path against OpenCV on this file' });
  }
  return figures;
}

/** The gate from a decoded frame (its luma included), with each kernel set in turn. */
async function kernelFigures(name: string, frame: Frame, rounds: number, wasm: QualityKernels): Promise<Figure[]> {
  const config = loadConfig({}).quality;
  const run = (kernels: QualityKernels) => () => runQualityGate(frame, config, undefined, kernels);
  const samples = await timeInTurn(rounds, { javascript: run(javascriptKernels), wasm: run(wasm) });
  const js = median(samples.javascript);
  const fast = median(samples.wasm);
  return [
    { name: `gate.${name}.javascript_ms`, value: js, unit: 'ms', note: `luma + every check on a decoded ${frame.width} x ${frame.height} frame` },
    { name: `gate.${name}.wasm_ms`, value: fast, unit: 'ms' },
    { name: `gate.${name}.wasm_speedup`, value: js / fast, unit: 'x', target: 3 },
  ];
}

export const gateBenchmark: Benchmark = {
  name: 'gate',
  describe: 'gate on decoded 1080p frames, WebAssembly vs JavaScript; decode + gate of a 1080p JPEG vs OpenCV imdecode + Laplacian variance (python3-opencv), same file; the gate-only reduced decode of 12 MP JPEGs vs the full decode and OpenCV',
  async run({ quick }) {
    const rounds = quick ? 3 : 21;
    const [width, height] = quick ? [640, 360] : [1920, 1080];
    const jpeg = await photoLikeJpeg(width, height);
    const wasm = await loadWasmKernels();
    const figures: Figure[] = [
      ...(await kernelFigures('photo', await decoded(jpeg), rounds, wasm)),
      ...(await kernelFigures('document', await decoded(await documentJpeg(width, height)), rounds, wasm)),
    ];
    const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-'));
    const file = join(dir, 'frame.jpg');
    await writeFile(file, jpeg);
    const withWasm = (await createVisionops(loadConfig({ sets: ['runtime.qualityKernels=wasm'] }), { scope: 'gate' })).runner();
    const withJs = (await createVisionops(loadConfig({ sets: ['runtime.qualityKernels=javascript'] }), { scope: 'gate' })).runner();
    try {
      // OpenCV first and last around ours, so a neighbour's burst of load shows in both.
      const before = await openCvMedians(file, rounds);
      const stages = { decode: [] as number[], gate: [] as number[] };
      const samples = await timeInTurn(rounds, {
        wasm: async () => {
          const { timings } = await checkImage(withWasm, jpeg);
          stages.decode.push(timings.decode ?? NaN);
          stages.gate.push(timings.gate ?? NaN);
        },
        javascript: () => checkImage(withJs, jpeg),
        sharp: () => sharp(jpeg).removeAlpha().raw().toBuffer(),
      });
      const afterwards = await openCvMedians(file, rounds);
      const ours = median(samples.wasm);
      const decodeShare = median(samples.sharp) / ours;
      figures.push(
        { name: 'gate.whole.wasm_ms', value: ours, unit: 'ms', note: 'ingest (decode, EXIF, SHA-256, luma, perceptual hash) + every check, WebAssembly kernels' },
        { name: 'gate.whole.javascript_ms', value: median(samples.javascript), unit: 'ms', note: 'the same with the JavaScript kernels' },
        { name: 'gate.whole.ingest_stage_ms', value: median(stages.decode), unit: 'ms', note: "the WebAssembly run's decode stage (ingest)" },
        { name: 'gate.whole.gate_stage_ms', value: median(stages.gate), unit: 'ms', note: "the WebAssembly run's gate stage" },
        { name: 'gate.whole.sharp_decode_ms', value: median(samples.sharp), unit: 'ms', note: 'sharp decode to raw RGB alone' },
        { name: 'gate.whole.decode_share', value: decodeShare, unit: 'x', note: 'sharp decode alone / whole gate' },
      );
      if (before === null || afterwards === null) {
        figures.push({ name: 'gate.opencv_ms', value: NaN, unit: 'ms', note: 'not available: python3 with cv2 missing (apt-get install python3-opencv)' });
      } else {
        const opencv = (before.whole + afterwards.whole) / 2;
        figures.push(
          { name: 'gate.opencv_ms', value: opencv, unit: 'ms' },
          { name: 'gate.opencv_decode_ms', value: (before.decode + afterwards.decode) / 2, unit: 'ms', note: 'cv2.imdecode alone' },
          { name: 'gate.ratio_to_opencv', value: ours / opencv, unit: 'x', target: 1, atMost: true },
          { name: 'gate.javascript_ratio_to_opencv', value: median(samples.javascript) / opencv, unit: 'x', note: 'the JavaScript kernels, for comparison' },
        );
      }
      const [largeWidth, largeHeight] = quick ? [1200, 900] : [4000, 3000];
      const largeRounds = quick ? 3 : 9;
      figures.push(
        ...(await largeFigures('photo12mp', await photoLikeJpeg(largeWidth, largeHeight), largeRounds, withWasm, dir)),
        ...(await largeFigures('document12mp', await documentJpeg(largeWidth, largeHeight), largeRounds, withWasm, dir)),
      );
      return figures;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
