/**
 * The gate's WebAssembly kernels against the JavaScript reference. Every kernel repeats the
 * reference's IEEE operations in the same order (SIMD only across independent lanes), so the
 * tolerance is zero: luma bytes, resampled planes, edges, letters, autocorrelations and whole
 * reports must be identical, floats included, bit for bit.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Frame, GrayFrame } from '../src/core/frame.js';
import { qualityConfigSchema } from '../src/core/quality/config.js';
import { runQualityGate } from '../src/core/quality/gate.js';
import { javascriptKernels, type QualityKernels } from '../src/core/quality/kernels.js';
import { edgeOptions } from '../src/core/quality/text-scale.js';
import { instantiateWasmKernels, loadWasmKernels, qualityKernels } from '../src/core/quality/wasm/kernels.js';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { compileKernels, MODULE_FILE, moduleSource } from '../scripts/build-wasm.js';
import { launchChromium } from './helpers/browser.js';
import { largeWordCrop, photograph, photographedPage } from './fixtures/captures.js';
import { asJpeg, blank, blurred, exposed, randomLines, renderDocument, rotated, seededRandom, withGrain } from './fixtures/documents.js';

const config = qualityConfigSchema.parse({});

async function toFrame(image: Buffer, channels: 3 | 4 = 3): Promise<Frame> {
  const pipeline = sharp(image).toColourspace('srgb');
  const { data, info } = await (channels === 4 ? pipeline.ensureAlpha() : pipeline.removeAlpha()).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Same values bit for bit (Object.is tells -0 from 0 and NaN from NaN). */
function assertSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}: element ${i} is ${actual[i]}, the reference ${expected[i]}`);
  }
}

function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

/** A plane with text-like structure: dark strokes on bright paper, plus noise, so that every branch of the edge scan is taken. */
function strokePlane(width: number, height: number, seed: number): { width: number; height: number; data: Float32Array } {
  const random = seededRandom(seed);
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const stroke = y % 60 >= 10 && y % 60 < 30 && x % 14 < 7 && (x % 14 < 2 || y % 60 < 13 || (x * 7 + y) % 9 === 0);
      data[y * width + x] = (stroke ? 40 : 220) + (random() - 0.5) * 6 + 0.1 * x;
    }
  }
  return { width, height, data };
}

let wasm: QualityKernels;

test('the committed WebAssembly module is exactly what wasm/quality-kernels.ts builds', async () => {
  assert.equal(await readFile(MODULE_FILE, 'utf8'), moduleSource(await compileKernels()), 'run npm run build:wasm and commit the module');
});

test('the WebAssembly kernels load, from bytes, in this runtime', async () => {
  wasm = await loadWasmKernels();
  assert.equal(wasm.name, 'wasm');
  assert.equal(await loadWasmKernels(), wasm, 'one instance per thread');
});

test('luma: the same bytes for RGB and RGBA, at lengths that are and are not multiples of the SIMD width', () => {
  for (const channels of [3, 4] as const) {
    for (const [width, height] of [[1, 1], [15, 1], [16, 1], [17, 3], [64, 33], [333, 7]]) {
      const frame: Frame = { width, height, channels, data: randomBytes(width * height * channels, width * 31 + height + channels) };
      assertSameBits(wasm.toGray(frame).data, javascriptKernels.toGray(frame).data, `luma ${width} x ${height} x ${channels}`);
    }
  }
});

test('area resampling: the same floats for whole images and regions, at every scale the gate uses', () => {
  const gray: GrayFrame = { width: 301, height: 203, data: randomBytes(301 * 203, 7) };
  const regions = [
    { x: 0, y: 0, width: 301, height: 203 },
    { x: 17, y: 9, width: 130, height: 77 },
    { x: 300, y: 0, width: 1, height: 203 },
  ];
  for (const region of regions) {
    for (const scale of [1, 0.999, 0.5, 0.37, 0.1, 0.001]) {
      const expected = javascriptKernels.resampleLuma(gray, region, scale);
      const actual = wasm.resampleLuma(gray, region, scale);
      assert.deepEqual([actual.width, actual.height], [expected.width, expected.height]);
      assertSameBits(actual.data, expected.data, `resample ${JSON.stringify(region)} at ${scale}`);
    }
  }
});

test('edges: the same samples, in the same order, for every window the configuration allows', () => {
  for (const [width, height] of [[257, 131], [40, 300], [5, 5], [64, 2]]) {
    const plane = strokePlane(width, height, width + height);
    for (const edgeWindow of [2, 3, 7, 8, 32]) {
      const options = edgeOptions(qualityConfigSchema.parse({ analysis: { edgeWindow } }).analysis);
      const expected = javascriptKernels.sampleEdges(plane, options);
      const actual = wasm.sampleEdges(plane, options);
      const what = `edges ${width} x ${height}, window ${edgeWindow}`;
      assert.deepEqual(
        [actual.count, actual.rowEdges, actual.paired, actual.scanLines, actual.backgroundRange, actual.significantContrast],
        [expected.count, expected.rowEdges, expected.paired, expected.scanLines, expected.backgroundRange, expected.significantContrast],
        what,
      );
      assertSameBits(actual.position, expected.position, `${what}: positions`);
      assertSameBits(actual.low, expected.low, `${what}: low`);
      assertSameBits(actual.high, expected.high, `${what}: high`);
      assertSameBits(actual.steepness, expected.steepness, `${what}: steepness`);
    }
  }
  const busy = strokePlane(257, 131, 1);
  assert.ok(javascriptKernels.sampleEdges(busy, edgeOptions(config.analysis)).count > 1000, 'the stroke plane has edges to compare');
});

test('letters, and the line pitch strip profiles and their autocorrelation: the same answers', () => {
  for (const [width, height] of [[257, 131], [3, 3], [90, 400]]) {
    const plane = strokePlane(width, height, 3 * width + height);
    for (const noise of [0, 4, 30]) {
      assert.deepEqual(wasm.measureLetters(plane, 0.5, noise), javascriptKernels.measureLetters(plane, 0.5, noise), `letters ${width} x ${height}, noise ${noise}`);
    }
  }
  const random = seededRandom(11);
  for (const [strips, height, lags, count] of [[7, 200, 69, 900], [3, 50, 15, 40], [1, 9, 4, 5], [12, 331, 162, 5000]]) {
    const marks = { count, row: new Int32Array(count), strip: new Int32Array(count), offset: new Float32Array(count) };
    for (let m = 0; m < count; m++) {
      // Rows in bands (lines of text), some beyond the plane once sheared; offsets on half pixels, where rounding ties.
      marks.row[m] = Math.floor(random() * height * 0.25) * 4 + (m % 3);
      marks.strip[m] = Math.floor(random() * strips);
      marks.offset[m] = Math.floor(random() * 32) - 15.5;
    }
    const expected = javascriptKernels.stripProfiler(marks, strips, height);
    const actual = wasm.stripProfiler(marks, strips, height);
    for (const slope of [0, Math.tan(Math.PI / 90), -Math.tan(Math.PI / 18), 1 / 31, -1 / 31]) {
      assert.equal(actual.peakiness(slope), expected.peakiness(slope), `peakiness ${strips} x ${height} at slope ${slope}`);
    }
    const want = expected.autocorrelation(1 / 31, lags);
    const got = actual.autocorrelation(1 / 31, lags);
    assert.equal(got.energy, want.energy);
    assertSameBits(got.correlation, want.correlation, `autocorrelation ${strips} x ${height}, ${lags} lags`);
  }
});

/** Pages, and what goes wrong with them: blur, darkness, glare, turns, grain, emptiness, photographs. */
async function scenes(): Promise<{ name: string; image: Buffer; channels?: 3 | 4 }[]> {
  const page = await renderDocument({ lines: randomLines(41, 12), fontSize: 30, width: 1100 });
  const small = await renderDocument({ lines: randomLines(42, 16), fontSize: 22, width: 900 });
  return [
    { name: 'sharp page', image: page },
    { name: 'sharp page, RGBA', image: page, channels: 4 },
    { name: 'page as JPEG', image: await asJpeg(page, 60) },
    { name: 'blurred sigma 1.5', image: await blurred(page, 1.5) },
    { name: 'blurred sigma 4', image: await blurred(small, 4) },
    { name: 'dark', image: await exposed(page, 0.25) },
    { name: 'washed out', image: await exposed(page, 0.3, 180) },
    { name: 'turned 90', image: await rotated(page, 90) },
    { name: 'turned 180', image: await rotated(small, 180) },
    { name: 'skewed 4 degrees', image: await renderDocument({ lines: randomLines(43, 10), fontSize: 28, width: 1000, skewDegrees: 4 }) },
    { name: 'grain', image: await withGrain(page, 60, 5) },
    { name: 'blank', image: await blank(800, 600) },
    { name: 'photograph', image: await photograph(3) },
    { name: 'photographed page', image: await photographedPage({ seed: 5, degrees: 25 }) },
    { name: 'large word crop', image: await largeWordCrop('INVOICE', 320, 180, 60) },
    { name: 'tiny', image: await blank(12, 40) },
  ];
}

test('the gate gives the same report, every score and detail, with either kernels on generated scenes', async () => {
  const verdicts = new Set<string>();
  for (const scene of await scenes()) {
    const frame = await toFrame(scene.image, scene.channels);
    const expected = runQualityGate(frame, config, undefined, javascriptKernels);
    const actual = runQualityGate(frame, config, undefined, wasm);
    assert.deepEqual(actual, expected, scene.name);
    verdicts.add(expected.verdict);
    for (const check of expected.checks) verdicts.add(`${check.name}:${check.verdict}`);
  }
  for (const seen of ['pass', 'warn', 'fail', 'blur:fail', 'exposure:warn', 'information:fail', 'resolution:fail']) assert.ok(verdicts.has(seen), `the scenes include ${seen} (saw ${[...verdicts].join(', ')})`);
});

test('auto falls back to the JavaScript kernels where WebAssembly cannot run; wasm insists', async () => {
  await assert.rejects(instantiateWasmKernels(undefined), /WebAssembly is not available/);
  const refusing = { instantiate: () => Promise.reject(new Error('CompileError: SIMD unsupported')) };
  const failingLoad = () => instantiateWasmKernels(refusing);
  assert.equal(await qualityKernels('auto', failingLoad), javascriptKernels);
  await assert.rejects(qualityKernels('wasm', failingLoad), /SIMD unsupported/);
  assert.equal(await qualityKernels('javascript', failingLoad), javascriptKernels);
  assert.equal((await qualityKernels('auto')).name, 'wasm');
});

/** test/fixtures/gate-in-browser.ts bundled as a script that sets `gateInBrowser` on the page. */
async function browserBundle(): Promise<string> {
  const entry = fileURLToPath(new URL('./fixtures/gate-in-browser.ts', import.meta.url));
  const built = await build({ configFile: false, logLevel: 'silent', build: { write: false, minify: false, lib: { entry, formats: ['iife'], name: 'gateInBrowser' } } });
  const outputs = Array.isArray(built) ? built : [built];
  const chunk = outputs.flatMap((o) => ('output' in o ? o.output : [])).find((file) => file.type === 'chunk');
  assert.ok(chunk !== undefined && chunk.type === 'chunk', 'the bundle has a script');
  return chunk.code;
}

test('in Chromium the same module loads from the same bytes and gives the report Node gives', async () => {
  const frame = await toFrame(await asJpeg(await renderDocument({ lines: randomLines(44, 8), fontSize: 26, width: 700 }), 80), 4);
  const expected = runQualityGate(frame, config, undefined, javascriptKernels);
  assert.ok((expected.checks.find((c) => c.name === 'blur')?.score ?? 0) > 0, 'a page with text, so every pass runs (pitch, tiles, letters)');
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><title>gate</title>');
    await page.addScriptTag({ content: await browserBundle() });
    const pixels = Buffer.from(frame.data).toString('base64');
    const answer = await page.evaluate(
      async ({ width, height, pixels }) => {
        const data = Uint8ClampedArray.from(atob(pixels), (c) => c.charCodeAt(0));
        const bundle = (globalThis as unknown as { gateInBrowser: { gate(frame: unknown): Promise<unknown> } }).gateInBrowser;
        return bundle.gate({ width, height, channels: 4, data });
      },
      { width: frame.width, height: frame.height, pixels },
    );
    assert.deepEqual(answer, { kernels: 'wasm', report: expected });
  } finally {
    await browser.close();
  }
});
