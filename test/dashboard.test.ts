import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { hashKey } from '../src/server/auth.js';
import { blank } from './fixtures/documents.js';
import { randomBytes } from './fixtures/images.js';
import { streamPage } from './fixtures/streams.js';
import { launchChromium } from './helpers/browser.js';
import { startMonitoredServer } from './helpers/monitored-server.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-dashboard-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every panel that draws data; the alerts list is text. */
const PANELS = ['latency', 'throughput', 'decisions', 'errors', 'cost', 'drift', 'overrides', 'accuracy', 'clusters', 'quality-blur', 'quality-exposure', 'quality-information', 'quality-resolution'];

test('the dashboard renders every chart with data after traffic through the real models, in Chromium', async () => {
  assert.ok(existsSync(new URL('../dist/web/dashboard/index.html', import.meta.url)), 'the pages are not built: npm ci builds them, or run npm run build');
  // The browser first: when it cannot start, no model worker or server is left keeping the run alive.
  const browser = await launchChromium();
  const config = loadConfig({});
  const pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
  const server = await startMonitoredServer(dir, ['monitor.reference.images=20', 'monitor.drift.windowImages=20', 'monitor.drift.evaluateEvery=5', 'monitor.drift.minImages=10'], undefined, pipeline);
  try {
    const post = (body: Buffer) => server.app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/jpeg' }, payload: body });
    for (let i = 0; i < 25; i++) await post(await streamPage(31, i));
    for (let i = 0; i < 10; i++) await post(await streamPage(32, i, 'dark'));
    await post(await blank(800, 600));
    await post(randomBytes(500, 2));
    // What the review module will report once it lands.
    for (let i = 0; i < 10; i++) server.monitor.recordReview({ modelVersion: 'ppocrv4-rec@4.0', overridden: i % 5 === 0 });
    server.monitor.setAccuracy({ modelVersion: 'ppocrv4-rec@4.0', production: 0.8, lab: 0.98 });
    await server.monitor.settle();

    const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    // Anything the Content-Security-Policy blocks (charts, thumbnails) is a problem too.
    await page.exposeFunction('reportViolation', (text: string) => problems.push(`CSP blocked ${text}`));
    await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => reportViolation(event.violatedDirective + ' ' + event.blockedURI))`);
    await page.goto(`${address}/dashboard`);
    await page.waitForSelector('body[data-state="ready"]', { state: 'attached', timeout: 15_000 }).catch(async () => assert.fail(`the dashboard never rendered: ${await page.textContent('#status')}; ${problems.join('; ')}`));
    for (const id of PANELS) {
      const points = Number(await page.getAttribute(`#panel-${id}`, 'data-points'));
      assert.ok(points > 0, `panel ${id} draws data (${points} points)`);
    }
    assert.equal(await page.locator('#panel-clusters img').count() > 0, true, 'clusters show thumbnails');
    assert.ok((await page.locator('canvas').count()) >= PANELS.length - 1, 'each chart is drawn on a canvas');
    assert.match((await page.textContent('#panel-alerts')) ?? '', /FIRING drift|No alert/);
    assert.deepEqual(problems, []);

    // Live: the page polls, so an image sent now shows without a reload.
    const before = (await page.textContent('#status')) ?? '';
    assert.match(before, /^36 images/);
    await post(await streamPage(31, 99));
    await page.locator('#status', { hasText: /^37 images/ }).waitFor({ timeout: 10_000 });

    const shots = join(process.cwd(), 'test-output');
    mkdirSync(shots, { recursive: true });
    const file = join(shots, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(statSync(file).size > 10_000);
  } finally {
    await browser.close();
    await server.close();
    await pipeline.close();
  }
});

test('with API keys on, the dashboard asks for an admin key, and draws once it has one', async () => {
  const adminKey = 'dashboard-admin-key-for-the-test';
  const reviewKey = 'a-reviewer-key-without-admin';
  const keys = [
    { id: 'ops', sha256: hashKey(adminKey), scopes: ['admin'] },
    { id: 'ana', sha256: hashKey(reviewKey), scopes: ['review'] },
  ];
  const browser = await launchChromium();
  const server = await startMonitoredServer(join(dir, 'keys'), [`auth.keys=${JSON.stringify(keys)}`]);
  try {
    for (let i = 0; i < 5; i++) {
      const response = await server.app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${adminKey}` }, payload: await streamPage(33, i) });
      assert.equal(response.statusCode, 200);
    }
    const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage();
    await page.goto(`${address}/dashboard`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#key', reviewKey);
    await page.press('#key', 'Enter');
    await page.waitForSelector('#login:not([hidden])', { timeout: 10_000 });
    assert.notEqual(await page.getAttribute('body', 'data-state'), 'ready', 'a key without the admin scope shows nothing');
    await page.fill('#key', adminKey);
    await page.press('#key', 'Enter');
    await page.waitForSelector('body[data-state="ready"]', { state: 'attached', timeout: 15_000 });
    assert.ok(Number(await page.getAttribute('#panel-decisions', 'data-points')) > 0);
    assert.equal(await page.isHidden('#login'), true);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('in a browser whose locale is POSIX (it reports en-US@posix, which Intl refuses), the dashboard draws with the default locale and names what drift cannot judge', async () => {
  const browser = await launchChromium({ env: { ...process.env, LANG: 'C', LC_ALL: 'C' } as Record<string, string> });
  // A 20-image reference against the default monitor.drift.minImages (30): no feature can be judged.
  const server = await startMonitoredServer(join(dir, 'posix'), ['monitor.reference.images=20']).catch(async (error: unknown) => {
    await browser.close();
    throw error;
  });
  try {
    for (let i = 0; i < 21; i++) await server.app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/jpeg' }, payload: await streamPage(34, i) });
    const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage();
    const language = String(await page.evaluate('navigator.language'));
    assert.throws(() => new Intl.NumberFormat(language), RangeError, `the browser reports a tag Intl refuses (${language})`);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${address}/dashboard`);
    await page.waitForSelector('body[data-state="ready"]', { state: 'attached', timeout: 15_000 }).catch(() => assert.fail(`the dashboard never rendered: ${problems.join('; ')}`));
    assert.deepEqual(problems, []);
    assert.ok(Number(await page.getAttribute('#panel-decisions', 'data-points')) > 0);
    assert.equal(await page.evaluate('navigator.language'), await page.evaluate('new Intl.NumberFormat().resolvedOptions().locale'));
    assert.match((await page.textContent('#reference')) ?? '', /· \d+ features too sparse to judge for drift$/);
    assert.match((await page.getAttribute('#reference', 'title')) ?? '', /fewer reference values than monitor\.drift\.minImages \(30\)/);
  } finally {
    await browser.close();
    await server.close();
  }
});
