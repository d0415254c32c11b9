/**
 * The capture page's reading under the `device` policy, timed in Chromium: the model worker's
 * detector and recogniser (onnxruntime-web, WebAssembly, one thread) on each generated capture at
 * full resolution, as the page reads a captured frame; the bytes the page queues (the crops with
 * the reading) against the downscaled page (1600 px, JPEG q85, `downscaledCopy`); and what a
 * server records from that upload (the device's reading, CER against the printed text). The load
 * average is printed beside: this machine is shared. docs/edge.md has the table.
 *
 *   nice node --import tsx scripts/measure-device-reading.ts [--limit N] [--webgpu]
 *
 * `--webgpu` starts Chromium with WebGPU on (--enable-unsafe-webgpu: its SwiftShader adapter, a
 * GPU in software, here) and gives the worker onnxruntime-web's WebGPU build, which it prefers.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { REGIONS_PATH } from '../src/core/edge/regions.js';
import { DEVICE_LEXICON_PATH, DEVICE_MODELS_PATH, EDGE_ROUTE_HEADER, type DeviceModelsAnswer } from '../src/core/edge/route.js';
import { downscaledCopy } from '../src/edge/agent.js';
import { builtinManifests } from '../src/runtime/builtin.js';
import { characterErrorRate } from '../test/fixtures/documents.js';
import { launchChromium } from '../test/helpers/browser.js';
import { browserModule } from '../test/helpers/device-core.js';
import { captureLimit, captures, measuringServer } from './edge-captures.js';

const ORIGIN = 'http://localhost:1';
/** What test/helpers/reading-probe.ts takes and answers (it is type-checked with the pages). */
type Pixels = { width: number; height: number; rgba: string };
type FrameRead = { ms: number; rows: string[]; lines: number; body: string; contentType: string; bytes: number; backend: string };
const webgpu = process.argv.includes('--webgpu');
const URLS = { detection: '/detection.onnx', orientation: '/orientation.onnx', recognition: '/recognition.onnx', wasm: '/ort.wasm', ...(webgpu ? { webgpuWasm: '/ort-webgpu.wasm' } : {}) };
const limit = captureLimit();

const { app, close } = await measuringServer('measure-device-reading');
const browser = await launchChromium(webgpu ? { args: ['--enable-unsafe-webgpu'] } : {});
try {
  const manifests = await builtinManifests();
  const served = (await app.inject({ method: 'GET', url: DEVICE_MODELS_PATH })).json() as DeviceModelsAnswer;
  const lexicon = (await app.inject({ method: 'GET', url: DEVICE_LEXICON_PATH })).body;
  const bundles = { probe: await browserModule('test/helpers/reading-probe.ts', 'readingProbe'), worker: await browserModule('web/capture/model-worker.ts') };
  const files: Record<string, { path: string; type: string }> = {
    [URLS.detection]: { path: manifests.detection.path, type: 'application/octet-stream' },
    [URLS.recognition]: { path: manifests.recognition.path, type: 'application/octet-stream' },
    [URLS.wasm]: { path: fileURLToPath(import.meta.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm')), type: 'application/wasm' },
    '/ort-webgpu.wasm': { path: fileURLToPath(import.meta.resolve('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm')), type: 'application/wasm' },
  };
  const page = await browser.newPage();
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    const file = files[path];
    if (file !== undefined) return route.fulfill({ contentType: file.type, body: readFileSync(file.path) });
    if (path === '/model-worker.ts') return route.fulfill({ contentType: 'text/javascript', body: bundles.worker });
    if (path === DEVICE_LEXICON_PATH) return route.fulfill({ contentType: 'application/json', body: lexicon });
    return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>reading</title>' });
  });
  await page.goto(`${ORIGIN}/`);
  await page.addScriptTag({ content: bundles.probe, type: 'module' });
  await page.waitForFunction(() => 'readingProbe' in globalThis);

  const chosen = (await captures()).slice(0, limit);
  type Probe = { readingProbe: { readFrames(urls: typeof URLS, settings: DeviceModelsAnswer['settings'], recogniser: { alphabet: string[]; lexicon: string }, frames: Pixels[]): Promise<{ loadMs: number; reads: FrameRead[] }> } };
  const readOne = async (original: Buffer) => {
    const { data, info } = await sharp(original).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const frames: Pixels[] = [{ width: info.width, height: info.height, rgba: data.toString('base64') }];
    return page.evaluate(({ urls, settings, recogniser, frames }) => (globalThis as unknown as Probe).readingProbe.readFrames(urls, settings, recogniser, frames), { urls: URLS, settings: served.settings, recogniser: { alphabet: served.alphabet, lexicon: DEVICE_LEXICON_PATH }, frames });
  };
  const loadBefore = loadavg()[0];
  // The first read after loading: the smallest capture, read once before the timed ones (the worker warms its sessions up as it loads them).
  const { loadMs, reads: [warmUp] } = await readOne(chosen.at(-1)!.original);
  const reads: FrameRead[] = [];
  // One capture a call: a 4032 x 3024 frame is 48 MB of pixels on each side.
  for (const capture of chosen) reads.push(...(await readOne(capture.original)).reads);
  console.log(`models loaded in the worker (${warmUp.backend}) in ${(loadMs / 1000).toFixed(1)} s, the first read ${(warmUp.ms / 1000).toFixed(2)} s; load average ${loadBefore.toFixed(1)} before the reads, ${loadavg()[0].toFixed(1)} after`);
  console.log('| capture | lines | read on the device | queued (crops + reading) | downscaled page | queued / page | CER of the record |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const route = { policy: 'device', client: 'capture-page', device: ['gate', 'duplicates', 'detection', 'recognition'], sent: 'crops', models: served.models.filter((model) => model.role !== 'orientation') };
  for (const [index, capture] of chosen.entries()) {
    const read = reads[index];
    const downscaled = await downscaledCopy(new Uint8Array(capture.original));
    const answer = (await app.inject({ method: 'POST', url: REGIONS_PATH, headers: { 'content-type': read.contentType, [EDGE_ROUTE_HEADER.toLowerCase()]: JSON.stringify(route) }, payload: Buffer.from(read.body, 'base64') })).json();
    const cer = answer.result ? characterErrorRate(capture.lines.join('\n'), answer.result.text).toFixed(3) : (answer.error?.code ?? 'no result');
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
    console.log(`| ${capture.name} | ${read.lines} | ${(read.ms / 1000).toFixed(2)} s | ${kb(read.bytes)} | ${kb(downscaled.length)} | ${(read.bytes / downscaled.length).toFixed(2)}x | ${cer} (${answer.decision}) |`);
  }
} finally {
  await browser.close();
  await close();
}
