import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { CAPTURE_POLICY_PATH } from '../src/core/edge/policy.js';
import { REGIONS_PATH } from '../src/core/edge/regions.js';
import { DEVICE_LEXICON_PATH, DEVICE_MODELS_PATH, type DeviceModelsAnswer, type EdgeRoute } from '../src/core/edge/route.js';
import { lexiconOf, type LexiconSource } from '../src/core/text/lexicon.js';
import { englishLexicon } from '../src/pipeline/lexicon.js';
import sharp from 'sharp';
import { blurred, characterErrorRate, randomLines, renderDocument, withGrain } from './fixtures/documents.js';
import { launchChromium } from './helpers/browser.js';
import { CAMERA, cameraFrame, writeVideo } from './helpers/fake-camera.js';
import { storedRecords } from './helpers/stored-records.js';

// The built page (dist/web: `npm run build` first) against a server reading with the real models.
const work = mkdtempSync(join(tmpdir(), 'visionops-capture-regions-'));
const LINES = randomLines(71, 7);
const CONFIGURED = ['pipeline.orientation.upsideDownShare=0.6', 'pipeline.recognition.spelling.words=["Kopitiam"]', 'edge.policy="device"'];
let visionops: Visionops;
let app: FastifyInstance;
let address: string;
let browser: Browser;

/** The page as a camera sees it: on a desk, a little smaller than the frame, with the sensor's grain. */
async function onDesk(page: Buffer): Promise<Buffer> {
  const held = await sharp(page).resize({ width: 560 }).png().toBuffer();
  const { height } = await sharp(held).metadata();
  const desk = await sharp({ create: { width: CAMERA.width, height: CAMERA.height, channels: 3, background: { r: 120, g: 110, b: 100 } } })
    .composite([{ input: held, left: 40, top: Math.round((CAMERA.height - height!) / 2) }])
    .png()
    .toBuffer();
  return withGrain(desk, 8, 71);
}

before(async () => {
  assert.ok(existsSync(fileURLToPath(new URL('../dist/web/capture/index.html', import.meta.url))), 'run npm run build first: the test loads the built page');
  // Settings away from their defaults, to see them served to devices as configured; the deployment's policy is device, which a link may narrow to hybrid.
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(work, 'data'))}`, ...CONFIGURED] });
  visionops = await createVisionops(config, { overrides: { lab: [] } });
  app = await visionops.server();
  address = await app.listen({ host: '127.0.0.1', port: 0 });
  const video = join(work, 'camera.y4m');
  const document = await onDesk(await renderDocument({ lines: LINES, fontSize: 26, width: 760 }));
  // Shaken first, so the page is seen moving before it holds still.
  writeVideo(video, [
    [await cameraFrame(await blurred(document, 3)), 10],
    [await cameraFrame(document), 40],
  ]);
  browser = await launchChromium({ args: ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`, '--use-fake-ui-for-media-stream'] });
});
after(async () => {
  await browser?.close();
  await visionops?.close();
  rmSync(work, { recursive: true, force: true });
});

test('under hybrid the page finds the text on the device, uploads only the crops, fewer bytes than the downscaled page, and the record reads the text', async (t) => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  page.on('pageerror', (error) => t.diagnostic(`page error: ${error.message}`));
  const uploads: Promise<{ url: string; bytes: number }>[] = [];
  page.on('request', (request) => {
    // A Blob body is not handed to the test: its size is the Content-Length the browser sent.
    if (request.method() === 'POST') uploads.push(request.allHeaders().then((headers) => ({ url: request.url(), bytes: Number(headers['content-length']) })));
  });
  await page.goto(`${address}/capture?policy=hybrid`);
  const deadline = Date.now() + 120_000;
  while ((await page.locator('#result').getAttribute('data-record')) === null) {
    assert.ok(Date.now() < deadline, `no capture recorded within two minutes: ${await page.locator('#message').textContent()}; models ${await page.locator('body').getAttribute('data-models')}`);
    await page.waitForTimeout(100);
  }
  assert.equal(await page.locator('body').getAttribute('data-models'), 'ready', 'the detector loaded on the device');
  assert.equal(uploads.length, 1);
  const upload = await uploads[0];
  assert.equal(new URL(upload.url).pathname, REGIONS_PATH, 'the crops went to the regions route');

  const id = await page.locator('#result').getAttribute('data-record');
  const record = (await app.inject({ method: 'GET', url: `/v1/predictions/${id}` })).json();
  const { edge } = record.lineage;
  assert.deepEqual({ sent: edge.sent, device: edge.device }, { sent: 'crops', device: ['gate', 'duplicates', 'detection'] });
  assert.equal(record.decision, 'accept', JSON.stringify(record.reasons));
  assert.deepEqual({ width: record.image.width, height: record.image.height }, { width: 640, height: 480 }, 'the lines are in the camera frame\'s coordinates');
  const error = characterErrorRate(LINES.join('\n'), record.result.text);
  t.diagnostic(`read from the crops (CER ${error.toFixed(3)}): ${JSON.stringify(record.result.text)}`);
  assert.ok(error < 0.1, `the record reads the page's text (CER ${error.toFixed(3)})`);

  // What the page sends without its detector: the frame (under 1600 px, so whole) as JPEG at 0.9, from the same still camera.
  const downscaled = await page.evaluate<number>(`(async () => {
    const video = document.getElementById('camera');
    const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
    canvas.getContext('2d').drawImage(video, 0, 0);
    return (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).size;
  })()`);
  t.diagnostic(`sent ${upload.bytes} bytes of crops (${record.source.regions.crops} crops) against ${downscaled} bytes for the downscaled page`);
  assert.ok(upload.bytes > 0 && upload.bytes < downscaled, `crops ${upload.bytes} bytes < page ${downscaled} bytes`);
});

const recordCount = () => storedRecords(join(work, 'data')).length;

test("the models' description serves the pipeline's reading settings as configured, for a device to turn and read as the server does", async () => {
  const served = await app.inject({ method: 'GET', url: DEVICE_MODELS_PATH });
  assert.equal(served.statusCode, 200);
  assert.equal(served.headers['cache-control'], 'no-cache', 'a change of configuration reaches a device at its next load');
  const { settings, alphabet, models } = served.json() as DeviceModelsAnswer;
  assert.deepEqual(settings, {
    orientation: { lineThreshold: 0.9, upsideDownShare: 0.6 },
    recognition: { bucketWidth: 160, spaceBoost: null, dropScore: 0.5, spelling: { least: 0.1, shortest: 4, words: ['Kopitiam'] } },
  });
  assert.ok(alphabet.length > 6000 && alphabet[0] === 'blank', 'the CTC alphabet, the blank first');
  assert.deepEqual(models.map((model) => model.role), ['detection', 'orientation', 'recognition']);
  const deployment = await app.inject({ method: 'GET', url: CAPTURE_POLICY_PATH });
  assert.deepEqual(deployment.json(), { policy: 'device' }, "the capture page's policy is the deployment's edge.policy");
});

test('the lexicon served to devices spells as the server does', async () => {
  const served = await app.inject({ method: 'GET', url: DEVICE_LEXICON_PATH });
  assert.equal(served.statusCode, 200);
  const device = lexiconOf(served.json() as LexiconSource)();
  const server = await englishLexicon();
  const words = ['TOTAL', 'Totai', 'respondents', 'SUBTOTAL', 'September', 'Alan', 'colour', 'amunt', 'Jalan', 'Kopitiam'];
  assert.deepEqual(
    words.map((word) => [device.knows(word), device.offers(word)]),
    words.map((word) => [server.knows(word), server.offers(word)]),
  );
  assert.ok(device.offers('September') && device.knows('respondents') && !device.knows('Totai'));
});

test('under device the page reads the text on the device with the network off, shows it at once, queues the crops with the reading, and the cloud records that reading once the network returns', async (t) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  try {
    const page = await context.newPage();
    page.on('pageerror', (error) => t.diagnostic(`page error: ${error.message}`));
    const before = recordCount();
    // No policy in the link: the deployment's, device.
    await page.goto(`${address}/capture`);
    const until = async (what: string, seconds: number, done: () => Promise<boolean>) => {
      const deadline = Date.now() + seconds * 1000;
      while (!(await done())) {
        assert.ok(Date.now() < deadline, `${what} within ${seconds} s: ${await page.locator('#message').textContent()}; models ${await page.locator('body').getAttribute('data-models')}`);
        await page.waitForTimeout(100);
      }
    };
    // The models come from the cloud once; then the network goes, and everything else happens on the device.
    await until('the on-device models loaded', 120, async () => (await page.locator('body').getAttribute('data-models')) === 'ready');
    await context.setOffline(true);
    await until('the text read on the device', 120, async () => (await page.locator('#result').getAttribute('data-device-read-ms')) !== null);
    const shown = (await page.locator('#lines li').allTextContents()).join('\n');
    const shownError = characterErrorRate(LINES.join('\n'), shown);
    t.diagnostic(`read on the device (CER ${shownError.toFixed(3)}): ${JSON.stringify(shown)}`);
    assert.ok(shownError < 0.1, `the page shows the text read on the device (CER ${shownError.toFixed(3)})`);
    await page.locator('#waiting').filter({ hasText: /^1$/ }).waitFor();
    assert.equal(recordCount(), before, 'nothing recorded while offline');
    const [queued] = (await page.evaluate(`new Promise((resolve, reject) => {
      const opening = indexedDB.open('visionops-capture');
      opening.onerror = () => reject(opening.error);
      opening.onsuccess = () => {
        const all = opening.result.transaction('outbox').objectStore('outbox').getAll();
        all.onerror = () => reject(all.error);
        all.onsuccess = () => resolve(all.result.map((item) => ({ route: item.route, bytes: item.image.size })));
      };
    })`)) as { route: EdgeRoute; bytes: number }[];
    const readMs = Number(await page.locator('#result').getAttribute('data-device-read-ms'));
    t.diagnostic(`device reading: ${readMs} ms for the 640 x 480 frame (${LINES.length} lines, load average ${loadavg()[0].toFixed(1)}); queued ${queued.bytes} bytes (crops and reading)`);
    assert.deepEqual({ sent: queued.route.sent, device: queued.route.device }, { sent: 'crops', device: ['gate', 'duplicates', 'orientation', 'detection', 'recognition'] });

    await context.setOffline(false);
    // Under device the first try waits out the outbox's longest backoff (a minute).
    await until('the capture recorded after the network returned', 180, async () => (await page.locator('#result').getAttribute('data-record')) !== null);
    const id = await page.locator('#result').getAttribute('data-record');
    const record = (await app.inject({ method: 'GET', url: `/v1/predictions/${id}` })).json();
    const { edge } = record.lineage;
    assert.deepEqual({ policy: edge.policy, sent: edge.sent, device: edge.device }, { policy: 'device', sent: 'crops', device: ['gate', 'duplicates', 'orientation', 'detection', 'recognition'] });
    assert.deepEqual(edge.models.map((model: { role: string }) => model.role), ['detection', 'orientation', 'recognition'], 'the models the device ran, as the server names them');
    assert.deepEqual(record.lineage.models, [], 'the cloud recognised nothing again');
    assert.equal(record.result.text, shown, 'the record holds the reading the device showed');
    assert.ok(characterErrorRate(LINES.join('\n'), record.result.text) < 0.1);
    assert.equal(recordCount(), before + Number(await page.locator('body').getAttribute('data-captures')), 'one record per capture');
    assert.equal(recordCount(), before + 1);
  } finally {
    await context.close();
  }
});
