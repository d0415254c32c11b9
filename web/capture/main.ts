import { backoffDelay, CAPTURE_POLICY_PATH, DEFAULT_BACKOFF, DEVICE_LEXICON_PATH, DEVICE_MODELS_PATH, DOWNSCALED_LONG_SIDE, EDGE_ROUTE_HEADER, hammingDistance, linkPolicy, POLICY_PLANS, REGIONS_PATH, sentWithoutDetector, worthRetrying, type DeviceModel, type DeviceModelsAnswer, type CapturePolicyAnswer, type DeviceStage, type EdgePolicy, type EdgeRoute, type Frame, type QualityReport, type Sent } from '../../src/core/device.ts';
import { keyHeaders } from '../shared/api-key.ts';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import ortWebgpuWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { loadDeviceModels, type Examined, type ModelBackend } from './device-models.ts';
import { readEvents } from './events.ts';
import type { GateAnswer, GateRequest } from './gate-worker.ts';
import { enqueue, queued, remove, update, type QueuedCapture } from './outbox.ts';
import { readRegionsUpload, regionsUpload } from './regions.ts';

/** The long side live frames are gated at: small enough for every frame on a phone, large enough for print. */
const WORKING_LONG_SIDE = 800;
/** A frame counts as steady while its perceptual hash stays within this many bits of the last one... */
const STEADY_BITS = 6;
/** ...and is captured once it has passed and held steady this long. */
const STEADY_MS = 700;
/** After a capture, the scene must change by this many bits before the next auto-capture (the same page is not sent twice). */
const CHANGED_BITS = 12;
const FRAME_INTERVAL_MS = 120;
const DRAIN_INTERVAL_MS = 2000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('camera');
const guidanceList = $<HTMLUListElement>('guidance');
const message = $<HTMLParagraphElement>('message');
const shutter = $<HTMLButtonElement>('shutter');
const steadyBar = $<HTMLDivElement>('steady-bar');

/**
 * The deployment's routing policy (the server's `edge.policy`), or the one the link asks for
 * (`/capture?policy=device`) when it sends no more than the deployment's. A page that cannot ask
 * the server (served from a cache offline) takes `hybrid`'s place: it never sends an original.
 */
async function choosePolicy(): Promise<{ policy: EdgePolicy; asked: string | null; chosen: boolean }> {
  const asked = new URLSearchParams(location.search).get('policy');
  const link = asked !== null && asked in POLICY_PLANS ? (asked as EdgePolicy) : null;
  const answer = await fetch(CAPTURE_POLICY_PATH).catch(() => null);
  const deployment = answer?.ok === true ? ((await answer.json()) as CapturePolicyAnswer).policy : 'hybrid';
  return { ...linkPolicy(deployment, link), asked };
}

const { policy, asked, chosen } = await choosePolicy();
const plan = POLICY_PLANS[policy];
document.body.dataset.policy = policy;
const MODELS = { detection: '/web/models/detection.onnx', orientation: '/web/models/orientation.onnx', recognition: '/web/models/recognition.onnx', wasm: ortWasm, webgpuWasm: ortWebgpuWasm };
/** The device's models once loaded, as the policy has them (null until then, without any, or when they failed to load): each frame's lines found once, voted on, read. */
let examine: ((frame: Frame, read: boolean) => Promise<Examined>) | null = null;
/** The models as the server names them, for the route of a capture read on the device. */
let servedModels: DeviceModel[] = [];

/** The models the policy runs here (the detector; the classifier and the recogniser under `device`), with the server's settings to turn and read as it does. */
async function loadModels(): Promise<void> {
  const response = await fetch(DEVICE_MODELS_PATH);
  if (!response.ok) throw new Error(`${DEVICE_MODELS_PATH} answered HTTP ${response.status}`);
  const served = (await response.json()) as DeviceModelsAnswer;
  const recogniser = plan.deviceReads ? { alphabet: served.alphabet, lexicon: DEVICE_LEXICON_PATH } : undefined;
  examine = await loadDeviceModels(MODELS, served.settings, { orientation: plan.deviceModels, recogniser });
  servedModels = served.models;
}

const usesModels = plan.deviceModels || plan.sent === 'crops';
/** Auto-capture waits for the models while they load; if they fail, the cloud does their work as it always does. */
let modelsLoading = usesModels;
if (usesModels) {
  loadModels()
    .then(() => (document.body.dataset.models = 'ready'))
    .catch((error: Error) => {
      document.body.dataset.models = `failed: ${error.message}`;
      message.textContent = `The on-device models did not load (${error.message}): the ${plan.deviceReads ? 'page will be sent and read by the cloud' : 'page will be sent instead of its text'}.`;
    })
    .finally(() => (modelsLoading = false));
}
$('policy').textContent = `policy: ${policy} (${plan.sent === 'original' ? 'originals sent' : plan.deviceReads ? 'read on this device, sent later' : plan.sent === 'crops' ? 'only the text is sent' : 'originals never leave this device'})${chosen ? '' : `; the link asked for ${asked}, which this deployment does not allow`}`;

const worker = new Worker(new URL('./gate-worker.ts', import.meta.url), { type: 'module' });
const waitingAnswers: ((answer: GateAnswer) => void)[] = [];
worker.onmessage = (event: MessageEvent<GateAnswer>) => waitingAnswers.shift()?.(event.data);

/** The gate on the device, in the worker, on a frame downscaled to the working size. */
function gate(source: CanvasImageSource, width: number, height: number): Promise<GateAnswer> {
  const scale = Math.min(1, WORKING_LONG_SIDE / Math.max(width, height));
  const canvas = drawn(source, Math.round(width * scale), Math.round(height * scale));
  const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
  const request: GateRequest = { width: pixels.width, height: pixels.height, data: pixels.data };
  return new Promise((resolve) => {
    waitingAnswers.push(resolve);
    worker.postMessage(request, [pixels.data.buffer]);
  });
}

function drawn(source: CanvasImageSource, width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.imageSmoothingQuality = 'high';
  context.drawImage(source, 0, 0, width, height);
  return canvas;
}

/** What is sent under the policy (or as `sent`): the full frame, or a copy no longer than DOWNSCALED_LONG_SIDE (a canvas re-encode carries no metadata). */
function encoded(source: CanvasImageSource, width: number, height: number, sent: Sent = plan.sent): Promise<Blob> {
  const scale = sent === 'original' ? 1 : Math.min(1, DOWNSCALED_LONG_SIDE / Math.max(width, height));
  const canvas = drawn(source, Math.round(width * scale), Math.round(height * scale));
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob === null ? reject(new Error('the frame could not be encoded')) : resolve(blob)), 'image/jpeg', 0.9));
}

/** The frame at full resolution, as the core takes it: the crops are cut from every pixel the camera gave. */
function fullFrame(source: CanvasImageSource, width: number, height: number): Frame {
  const pixels = drawn(source, width, height).getContext('2d')!.getImageData(0, 0, width, height);
  return { width, height, channels: 4, data: pixels.data };
}

function showGuidance(report: QualityReport, fallback: string | null): void {
  guidanceList.replaceChildren();
  const sentences = report.guidance.length > 0 ? report.guidance : fallback === null ? [] : [fallback];
  for (const sentence of sentences) {
    const item = document.createElement('li');
    item.textContent = sentence;
    item.className = report.guidance.length > 0 ? report.verdict : 'pass';
    guidanceList.append(item);
  }
}

// Live frames: gate, guide, and capture once a passing frame holds steady.
const gateTimes: number[] = [];
let lastHash: string | null = null;
let steadySince: number | null = null;
let capturedHash: string | null = null;
let lastVerdict: QualityReport['verdict'] = 'fail';
let captures = 0;

async function watchFrames(): Promise<void> {
  for (;;) {
    if (video.readyState >= 2 && video.videoWidth > 0) await judgeFrame();
    await new Promise((done) => setTimeout(done, FRAME_INTERVAL_MS));
  }
}

const UPSIDE_DOWN = 'The page is upside down: turn it upright.';

/** A frame at full resolution and what the device's models made of it (null without them, or when they failed on it). */
interface Examination {
  frame: Frame;
  examined: Examined | null;
}

async function examination(source: CanvasImageSource, width: number, height: number): Promise<Examination> {
  const frame = fullFrame(source, width, height);
  return { frame, examined: examine === null ? null : await examine(frame, plan.deviceReads).catch(() => null) };
}

async function judgeFrame(): Promise<void> {
  // One still per frame: the gate, the on-device check and the capture see the same pixels while the video moves on.
  const still = drawn(video, video.videoWidth, video.videoHeight);
  const answer = await gate(still, still.width, still.height);
  gateTimes.push(answer.ms);
  if (gateTimes.length > 30) gateTimes.shift();
  const median = [...gateTimes].sort((a, b) => a - b)[Math.floor(gateTimes.length / 2)];
  $('timing').textContent = `gate on the device: ${median.toFixed(0)} ms a frame (median of ${gateTimes.length}) at ${answer.width} x ${answer.height}`;
  $('timing').dataset.ms = String(median);

  lastVerdict = answer.report.verdict;
  const steady = lastHash !== null && hammingDistance(answer.phash, lastHash) <= STEADY_BITS;
  lastHash = answer.phash;
  const sameAsCaptured = capturedHash !== null && hammingDistance(answer.phash, capturedHash) < CHANGED_BITS;
  shutter.disabled = plan.gateRefuses && answer.report.verdict === 'fail';
  if (answer.report.verdict !== 'pass' || !steady || sameAsCaptured) steadySince = null;
  else steadySince ??= performance.now();
  const held = steadySince === null ? 0 : performance.now() - steadySince;
  steadyBar.style.width = `${Math.min(100, (100 * held) / STEADY_MS)}%`;
  showGuidance(answer.report, sameAsCaptured ? 'Captured: point at the next page.' : answer.report.verdict === 'pass' ? 'Hold still…' : null);
  if (held >= STEADY_MS && modelsLoading) {
    showGuidance(answer.report, 'Preparing the on-device check…');
  } else if (held >= STEADY_MS) {
    steadySince = null;
    const seen = await examination(still, still.width, still.height);
    if (seen.examined !== null) document.body.dataset.modelsBackend = seen.examined.backend;
    if (seen.examined?.upsideDown === true) {
      showGuidance({ verdict: 'fail', checks: [], guidance: [UPSIDE_DOWN] }, null);
      return;
    }
    capturedHash = answer.phash;
    await captureFrom(still, still.width, still.height, answer.report.verdict, undefined, seen);
  }
}

/** What a capture sends, and what the device ran to make it. */
interface Prepared {
  image: Blob;
  sent: EdgeRoute['sent'];
  stages: DeviceStage[];
  backend?: ModelBackend;
}

/**
 * Under `device`: the text read here, shown at once, and the crops with their reading to send; under
 * `hybrid`: the crops the detector found. A model that fails on this frame, finds no text, or finds
 * the page upside down (a photo taken by hand: the cloud turns it) leaves the page to be sent, as
 * one that never loaded does. `seen`: the frame as auto-capture already examined it.
 */
async function prepare(source: CanvasImageSource, width: number, height: number, original?: Blob, seen?: Examination): Promise<Prepared> {
  const { frame, examined } = seen ?? (examine === null ? { frame: null, examined: null } : await examination(source, width, height));
  const image = () => (original !== undefined && plan.sent === 'original' ? Promise.resolve(original) : encoded(source, width, height));
  if (frame === null || examined === null) return { image: await image(), sent: sentWithoutDetector(plan.sent), stages: [] };
  const { boxes, reading, upsideDown, backend } = examined;
  const voted: DeviceStage[] = upsideDown === null ? [] : ['orientation'];
  if (reading !== null) showDeviceReading(reading.rows, examined.ms);
  if (reading !== null && boxes.length > 0) {
    return { image: await readRegionsUpload(frame, boxes, reading), sent: 'crops', stages: [...voted, 'detection', 'recognition'], backend };
  }
  const regions = plan.sent === 'crops' && !plan.deviceReads ? await regionsUpload(frame, boxes).catch(() => null) : null;
  if (regions !== null) return { image: regions, sent: 'crops', stages: [...voted, 'detection'], backend };
  return { image: await image(), sent: sentWithoutDetector(plan.sent), stages: voted, ...(voted.length > 0 ? { backend } : {}) };
}

/** The text the device read, shown before anything is sent: the person has the result without a network. */
function showDeviceReading(rows: string[], ms: number): void {
  const section = $('result');
  section.hidden = false;
  delete section.dataset.record;
  section.dataset.deviceReadMs = String(Math.round(ms));
  $('result-quality').textContent = '';
  $('decision').textContent = `read on this device in ${(ms / 1000).toFixed(1)} s (${rows.length} lines); recorded once sent`;
  $<HTMLOListElement>('lines').replaceChildren(...rows.map((text) => Object.assign(document.createElement('li'), { textContent: text })));
}

async function captureFrom(source: CanvasImageSource, width: number, height: number, verdict: QualityReport['verdict'], original?: Blob, seen?: Examination): Promise<void> {
  const prepared = await prepare(source, width, height, original, seen);
  const device: DeviceStage[] = [...plan.device, ...prepared.stages];
  const modelBackend = prepared.backend;
  // The models behind a reading, as the server names them: it records a reading only from the ones it serves.
  const models = prepared.stages.includes('recognition') ? servedModels.filter((model) => device.includes(model.role)) : [];
  const route: EdgeRoute = {
    policy,
    client: 'capture-page',
    device,
    sent: prepared.sent,
    deviceVerdict: verdict,
    capturedAt: new Date().toISOString(),
    ...(modelBackend === undefined ? {} : { modelBackend }),
    ...(models.length === 0 ? {} : { models }),
  };
  const image = prepared.image;
  const now = Date.now();
  const refused = await enqueue({ key: crypto.randomUUID(), image, route, queuedAt: now, attempts: 0, notBefore: plan.immediate ? now : now + DEFAULT_BACKOFF.maxMs });
  if (refused !== null) {
    message.textContent = refused;
    return;
  }
  captures++;
  document.body.dataset.captures = String(captures);
  message.textContent = !plan.immediate ? 'Captured: it will be sent later.' : navigator.onLine ? 'Captured: sending…' : 'Captured: it will be sent when the connection returns.';
  await showOutbox();
  void drain();
}

shutter.addEventListener('click', () => void captureFrom(video, video.videoWidth, video.videoHeight, lastVerdict));

// A photo chosen from the device: gated the same way, sent as the policy says.
$<HTMLInputElement>('file').addEventListener('change', async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file === undefined) return;
  const bitmap = await createImageBitmap(file);
  const answer = await gate(bitmap, bitmap.width, bitmap.height);
  showGuidance(answer.report, 'The photo is usable.');
  if (plan.gateRefuses && answer.report.verdict === 'fail') {
    message.textContent = 'Not sent: fix what is listed above and take it again.';
    return;
  }
  await captureFrom(bitmap, bitmap.width, bitmap.height, answer.report.verdict, file);
});

// The outbox: what waits, sent oldest first whenever the network allows.
async function showOutbox(): Promise<void> {
  const waiting = await queued();
  $('waiting').textContent = String(waiting.length);
  $('queue').replaceChildren(
    ...waiting.map((item) => {
      const row = document.createElement('li');
      row.textContent = `${new Date(item.queuedAt).toLocaleTimeString()} · ${(item.image.size / 1024).toFixed(0)} KB${item.attempts > 0 ? ` · tried ${item.attempts}×` : ''}`;
      return row;
    }),
  );
}

let draining = false;

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    for (const item of await queued()) {
      if (!navigator.onLine) break;
      if (item.notBefore > Date.now()) continue;
      if (!(await send(item))) break;
    }
  } finally {
    draining = false;
    await showOutbox();
  }
}

/**
 * An original the deployment refuses (its policy changed since this page asked it): kept under the
 * same key as the downscaled copy, under the deployment's policy, so nothing captured is lost;
 * null when the server's policy cannot be read now (the original waits its backoff).
 */
async function withoutOriginal(item: QueuedCapture): Promise<QueuedCapture | null> {
  const answer = await fetch(CAPTURE_POLICY_PATH).catch(() => null);
  if (answer?.ok !== true) return null;
  const deployment = ((await answer.json()) as CapturePolicyAnswer).policy;
  const bitmap = await createImageBitmap(item.image);
  const smaller: QueuedCapture = {
    ...item,
    image: await encoded(bitmap, bitmap.width, bitmap.height, 'downscaled'),
    route: { ...item.route, policy: linkPolicy(deployment, item.route.policy).policy, sent: 'downscaled' },
  };
  await update(smaller);
  message.textContent = `This deployment (${deployment}) takes no originals: the capture is sent as a smaller copy.`;
  return smaller;
}

/** One upload, its results shown as they stream; false when the cloud could not take it (it waits out its backoff). */
async function send(item: QueuedCapture): Promise<boolean> {
  const retryLater = async () => {
    const attempts = item.attempts + 1;
    await update({ ...item, attempts, notBefore: Date.now() + backoffDelay(attempts) });
    return false;
  };
  let response: Response;
  try {
    response = await fetch(`${item.route.sent === 'crops' ? REGIONS_PATH : '/v1/predict'}?stream=1`, {
      method: 'POST',
      headers: { 'content-type': item.image.type || 'application/octet-stream', 'idempotency-key': item.key, [EDGE_ROUTE_HEADER]: JSON.stringify(item.route), ...keyHeaders() },
      body: item.image,
    });
  } catch {
    return retryLater();
  }
  if (!response.ok || response.body === null) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (worthRetrying(response.status)) return retryLater();
    if (body?.error?.code === 'POLICY_FORBIDS_ORIGINAL') {
      const smaller = await withoutOriginal(item);
      return smaller === null ? retryLater() : send(smaller);
    }
    await remove(item.key);
    message.textContent = `Not recorded: ${body?.error?.message ?? `HTTP ${response.status}`}`;
    return true;
  }
  try {
    for await (const { event, data } of readEvents(response.body)) {
      if (event === 'error') {
        const failure = data as { status: number; error: { message: string } };
        if (worthRetrying(failure.status)) return retryLater();
        await remove(item.key);
        message.textContent = `Not recorded: ${failure.error.message}`;
        return true;
      }
      showResult(event, data);
      if (event === 'record') {
        await remove(item.key);
        message.textContent = 'Recorded.';
        return true;
      }
    }
  } catch {
    // The connection broke mid-answer: the same key finds the record if it was made.
  }
  return retryLater();
}

function showResult(event: string, data: unknown): void {
  const section = $('result');
  section.hidden = false;
  const lines = $<HTMLOListElement>('lines');
  if (event === 'quality') {
    const quality = data as QualityReport;
    $('result-quality').textContent = `cloud gate: ${quality.verdict}${quality.guidance.length > 0 ? ` · ${quality.guidance.join(' ')}` : ''}`;
    lines.replaceChildren();
    $('decision').textContent = '…';
  } else if (event === 'boxes') {
    $('decision').textContent = `reading ${(data as { boxes: unknown[] }).boxes.length} lines…`;
  } else if (event === 'line') {
    const line = document.createElement('li');
    line.textContent = (data as { text: string }).text;
    lines.append(line);
  } else if (event === 'record') {
    const record = data as { id: string; decision: string; result: { lines?: { text: string }[] } | null };
    $('decision').textContent = record.decision;
    section.dataset.record = record.id;
    if (record.result?.lines !== undefined) {
      lines.replaceChildren(...record.result.lines.map((line) => Object.assign(document.createElement('li'), { textContent: line.text })));
    }
  }
}

function showNetwork(): void {
  const network = $('network');
  network.textContent = navigator.onLine ? 'online' : 'offline: captures wait here';
  network.className = navigator.onLine ? '' : 'offline';
}

window.addEventListener('online', () => {
  showNetwork();
  void drain();
});
window.addEventListener('offline', showNetwork);
setInterval(() => void drain(), DRAIN_INTERVAL_MS);
showNetwork();
void showOutbox();
void drain();

async function startCamera(): Promise<void> {
  try {
    // The rear camera where there is one; any camera otherwise.
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' }, width: { ideal: 1920 }, height: { ideal: 1080 } }, audio: false });
    await video.play();
    void watchFrames();
  } catch (error) {
    message.textContent = `No camera (${(error as Error).name}): choose a photo instead.`;
  }
}
void startCamera();
