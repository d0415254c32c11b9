import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import type { EdgeRoute } from '../src/core/edge/route.js';
import { blurred, exposed, randomLines, renderDocument, rotated } from './fixtures/documents.js';
import { launchChromium } from './helpers/browser.js';
import { cameraFrame, writeVideo } from './helpers/fake-camera.js';
import { fixedReadingPipeline } from './helpers/pipelines.js';
import { storedRecords } from './helpers/stored-records.js';

// The page is the built one (dist/web): run `npm run build` first.
const work = mkdtempSync(join(tmpdir(), 'visionops-capture-'));

let visionops: Visionops;
let app: FastifyInstance;
let address: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

/**
 * A fake camera's video (YUV4MPEG2, 4:2:0, grey: chroma at 128): 1.5 s of the page in the dark,
 * 1.5 s shaken, then 3 s held sharp and still. Chromium plays it in a loop.
 */
async function writeFakeCamera(path: string): Promise<void> {
  const document = await renderDocument({ lines: randomLines(41, 8), fontSize: 22, width: 760 });
  await writeVideo(path, [
    [await cameraFrame(await exposed(document, 0.12)), 15],
    [await cameraFrame(await blurred(document, 3)), 15],
    [await cameraFrame(document), 30],
  ]);
}

const records = () => storedRecords(join(work, 'data'));

before(async () => {
  assert.ok(existsSync(fileURLToPath(new URL('../dist/web/capture/index.html', import.meta.url))), 'run npm run build first: the test loads the built page');
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(work, 'data'))}`] });
  visionops = await createVisionops(config, { overrides: { pipelines: [fixedReadingPipeline], lab: [] } });
  app = await visionops.server();
  address = await app.listen({ host: '127.0.0.1', port: 0 });
  const video = join(work, 'camera.y4m');
  await writeFakeCamera(video);
  browser = await launchChromium({ args: ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`, '--use-fake-ui-for-media-stream'] });
  // A phone's screen.
  context = await browser.newContext({ viewport: { width: 390, height: 844 }, permissions: ['camera'] });
  page = await context.newPage();
});
after(async () => {
  await browser?.close();
  await visionops?.close();
  rmSync(work, { recursive: true, force: true });
});

test('with a fake camera, the guidance follows the frames (too dark, blurry, hold still) and a sharp steady page is captured and recorded', async (t) => {
  await page.goto(`${address}/capture`);
  const seen: string[] = [];
  const deadline = Date.now() + 90_000;
  // The detector loads on the page's thread, so the video may loop past a phase meanwhile: watch until the capture and every phase's guidance happened.
  const allSeen = () => [/too dark/i, /blurry/i, /hold still…/i].every((guidance) => seen.some((text) => guidance.test(text)));
  while ((await page.locator('#result').getAttribute('data-record')) === null || !allSeen()) {
    assert.ok(Date.now() < deadline, `no capture recorded and every guidance seen within 90 s; guidance seen: ${JSON.stringify(seen)}`);
    const text = (await page.locator('#guidance').textContent()) ?? '';
    if (text !== '' && seen.at(-1) !== text) seen.push(text);
    await page.waitForTimeout(40);
  }
  t.diagnostic(`guidance seen: ${JSON.stringify(seen)}`);
  t.diagnostic((await page.locator('#timing').textContent()) ?? '');
  assert.ok(seen.some((text) => /too dark/i.test(text)), 'the dark frames ask for light');
  assert.ok(seen.some((text) => /blurry/i.test(text)), 'the shaken frames ask to hold still');
  assert.ok(seen.some((text) => /hold still…/i.test(text)), 'a passing frame is held before the capture');
  assert.equal(await page.locator('body').getAttribute('data-captures'), '1');
  assert.equal(await page.locator('#decision').textContent(), 'accept');
  const [record] = records();
  const { edge } = JSON.parse(record.lineage);
  assert.deepEqual({ policy: edge.policy, client: edge.client, device: edge.device, sent: edge.sent, deviceVerdict: edge.deviceVerdict }, { policy: 'hybrid', client: 'capture-page', device: ['gate', 'duplicates', 'detection'], sent: 'crops', deviceVerdict: 'pass' });
  const overflow = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `the page fits a phone's width (${overflow} px)`);
});

test("a link asking for cloud where the deployment's policy (hybrid here) never sends originals gets the deployment's, and the page says so", async () => {
  // A context of its own (its own outbox), whose uploads never reach the server: the other tests count the records.
  const own = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await own.route('**/v1/predict**', (route) => route.abort());
  try {
    const other = await own.newPage();
    await other.goto(`${address}/capture?policy=cloud`);
    await other.locator('#policy').filter({ hasText: /^policy: hybrid/ }).waitFor();
    assert.equal(await other.locator('body').getAttribute('data-policy'), 'hybrid');
    assert.match((await other.locator('#policy').textContent()) ?? '', /the link asked for cloud, which this deployment does not allow/);
  } finally {
    await own.close();
  }
});

test('an original queued under cloud, which the deployment (hybrid) refuses, is sent again as the downscaled copy under the deployment\'s policy, and recorded once', async () => {
  // A page that opened while the deployment said cloud: its first answer from policy.json; every later one is the server's.
  const own = await browser.newContext({ viewport: { width: 390, height: 844 } });
  let asked = 0;
  await own.route('**/web/capture/policy.json', (route) => (asked++ === 0 ? route.fulfill({ contentType: 'application/json', body: JSON.stringify({ policy: 'cloud' }) }) : route.continue()));
  try {
    const known = new Set(records().map((record) => record.id));
    const other = await own.newPage();
    await other.goto(`${address}/capture`);
    await other.locator('#policy').filter({ hasText: /^policy: cloud/ }).waitFor();
    const photo = await renderDocument({ lines: randomLines(61, 6), fontSize: 26, width: 900 });
    await other.locator('#file').setInputFiles({ name: 'page-61.png', mimeType: 'image/png', buffer: photo });
    await other.locator('#result[data-record]').waitFor({ timeout: 60_000 });
    const made = records().filter((record) => !known.has(record.id));
    assert.equal(made.length, 1, 'one record for the capture');
    const { edge } = JSON.parse(made[0].lineage);
    assert.deepEqual({ policy: edge.policy, sent: edge.sent }, { policy: 'hybrid', sent: 'downscaled' });
    assert.ok(asked >= 2, 'the page asked the server for its policy again after the refusal');
    assert.equal(await other.locator('#waiting').textContent(), '0', 'nothing is left waiting');
  } finally {
    await own.close();
  }
});

test('offline, captures wait in the outbox and the page says so; back online they drain, a lost answer is retried, and each is recorded once', async () => {
  const before = records().length;
  await context.setOffline(true);
  await page.locator('#network').filter({ hasText: 'offline' }).waitFor();
  for (const seed of [51, 52]) {
    const photo = await renderDocument({ lines: randomLines(seed, 6), fontSize: 26, width: 900 });
    await page.locator('#file').setInputFiles({ name: `page-${seed}.png`, mimeType: 'image/png', buffer: photo });
    await page.locator('#waiting').filter({ hasText: String(seed - 50) }).waitFor();
  }
  assert.equal(await page.locator('#queue li').count(), 2, 'the page lists what waits');
  assert.equal(records().length, before, 'nothing reached the cloud');

  // The first upload reaches the cloud and is recorded, but its answer is lost on the way back.
  let lost = 0;
  await page.route('**/v1/predict**', async (route) => {
    if (lost === 0) {
      lost++;
      await route.fetch();
      await route.abort('connectionreset');
    } else await route.continue();
  });
  await context.setOffline(false);
  await page.locator('#waiting').filter({ hasText: /^0$/ }).waitFor({ timeout: 30_000 });
  assert.equal(lost, 1);
  const all = records();
  assert.equal(all.length, before + 2, 'two captures, two records: the retried one was answered with its first record');
  assert.equal(new Set(all.map((row) => row.image_sha256)).size, all.length);
});

test('under the device policy, the on-device models answer an upside-down page on the spot, and the upright page is captured and kept for later', async (t) => {
  const video = join(work, 'upside-down.y4m');
  const document = await renderDocument({ lines: randomLines(43, 8), fontSize: 22, width: 760 });
  writeVideo(video, [
    [await cameraFrame(await rotated(document, 180)), 60],
    [await cameraFrame(document), 60],
  ]);
  const deviceBrowser = await launchChromium({ args: ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`, '--use-fake-ui-for-media-stream'] });
  try {
    const phone = await deviceBrowser.newPage({ viewport: { width: 390, height: 844 } });
    phone.on('pageerror', (error) => t.diagnostic(`page error: ${error.message}`));
    const before = records().length;
    await phone.goto(`${address}/capture?policy=device`);
    const seen: string[] = [];
    const deadline = Date.now() + 90_000;
    // The video may loop past the upside-down phase while the models load: watch until both happened.
    const upsideDown = () => seen.some((text) => /upside down: turn it upright/.test(text));
    while ((await phone.locator('body').getAttribute('data-captures')) === null || !upsideDown()) {
      assert.ok(Date.now() < deadline, `no capture and upside-down answer within 90 s; guidance seen: ${JSON.stringify(seen)}; ${await phone.locator('#message').textContent()}`);
      const text = (await phone.locator('#guidance').textContent()) ?? '';
      if (text !== '' && seen.at(-1) !== text) seen.push(text);
      await phone.waitForTimeout(40);
    }
    t.diagnostic(`guidance seen: ${JSON.stringify(seen)}`);
    assert.equal(await phone.locator('body').getAttribute('data-models'), 'ready', 'the on-device models loaded');
    assert.equal(await phone.locator('body').getAttribute('data-captures'), '1', 'the upside-down page is never captured');
    await phone.locator('#waiting').filter({ hasText: /^1$/ }).waitFor();
    assert.equal(records().length, before, 'under device the capture waits for a later drain');
    const backend = await phone.locator('body').getAttribute('data-models-backend');
    assert.ok(backend === 'wasm' || backend === 'webgpu', `the page says where the models ran (${backend})`);
    const waiting = (await phone.evaluate(`new Promise((resolve, reject) => {
      const opening = indexedDB.open('visionops-capture');
      opening.onerror = () => reject(opening.error);
      opening.onsuccess = () => {
        const all = opening.result.transaction('outbox').objectStore('outbox').getAll();
        all.onerror = () => reject(all.error);
        all.onsuccess = () => resolve(all.result.map((item) => item.route));
      };
    })`)) as EdgeRoute[];
    assert.deepEqual(
      waiting.map((route) => ({ device: route.device, modelBackend: route.modelBackend })),
      [{ device: ['gate', 'duplicates', 'orientation', 'detection', 'recognition'], modelBackend: backend }],
      'the route of the waiting capture records the orientation check, the reading and the backend that ran them',
    );
  } finally {
    await deviceBrowser.close();
  }
});
