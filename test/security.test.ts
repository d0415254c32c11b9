import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { hashKey } from '../src/server/auth.js';
import { blank } from './fixtures/documents.js';
import { launchChromium } from './helpers/browser.js';
import { modellessServers } from './helpers/modelless-servers.js';
import { closeFixture, reviewFixture, seedTask, type ReviewFixture } from './helpers/review.js';

const KEYS = { predict: 'vo_security-predict-key', review: 'vo_security-review-key', admin: 'vo_security-admin-key' };
const KEY_ENTRIES = Object.entries(KEYS).map(([scope, key]) => ({ id: `${scope}-holder`, sha256: hashKey(key), scopes: [scope] }));
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

let fixture: ReviewFixture;
const servers = modellessServers(() => fixture);
const serverWith = servers.serverWith;

before(() => {
  fixture = reviewFixture('visionops-security-');
});
after(async () => {
  await servers.close();
  await closeFixture(fixture);
  rmSync(fixture.dir, { recursive: true, force: true });
});

function expectError(response: { statusCode: number; json(): unknown }, status: number, code: string): string {
  assert.equal(response.statusCode, status, JSON.stringify(response.json()));
  const error = (response.json() as { error: { code: string; message: string } }).error;
  assert.equal(error.code, code);
  return error.message;
}

test('a request naming another host is refused with HOST_NOT_ALLOWED, keys on or off, whatever the route (DNS rebinding)', async () => {
  const open = await serverWith([]);
  const secured = await serverWith([`auth.keys=${JSON.stringify(KEY_ENTRIES)}`]);
  const rebound = { host: 'evil.example:8080', origin: 'http://evil.example:8080' };
  for (const app of [open, secured]) {
    expectError(await app.inject({ method: 'GET', url: '/v1/alerts', headers: { ...rebound, ...bearer(KEYS.admin) } }), 403, 'HOST_NOT_ALLOWED');
    expectError(await app.inject({ method: 'POST', url: '/v1/reviews/claim', headers: { ...rebound, ...bearer(KEYS.admin) } }), 403, 'HOST_NOT_ALLOWED');
    expectError(await app.inject({ method: 'GET', url: '/healthz', headers: rebound }), 403, 'HOST_NOT_ALLOWED');
    expectError(await app.inject({ method: 'GET', url: '/review', headers: rebound }), 403, 'HOST_NOT_ALLOWED');
    expectError(await app.inject({ method: 'GET', url: '/no/such/route', headers: rebound }), 403, 'HOST_NOT_ALLOWED');
  }
  // Spellings that a parser would turn into an allowed name are refused as sent.
  for (const host of ['0x7f.1', 'evil.example@localhost', 'localhost.evil.example', 'localhost:8080/x', 'localhost:080', '127.0.0.1.nip.io', 'localhost.']) {
    expectError(await open.inject({ method: 'GET', url: '/healthz', headers: { host } }), 403, 'HOST_NOT_ALLOWED');
  }
  // The names of this machine, with any port or none, in any case.
  for (const host of ['localhost', 'localhost:8080', 'LOCALHOST:3000', '127.0.0.1', '127.0.0.1:8080', '[::1]', '[::1]:8080']) {
    assert.equal((await open.inject({ method: 'GET', url: '/healthz', headers: { host } })).statusCode, 200, host);
  }
});

test('server.allowedHosts adds names, with any port or the one given; the bound address is allowed; bad entries are INVALID_CONFIG', async () => {
  const app = await serverWith(['server.host="10.1.2.3"', 'server.allowedHosts=["vision.example.com","ops.example.com:8443"]']);
  const status = async (host: string) => (await app.inject({ method: 'GET', url: '/healthz', headers: { host } })).statusCode;
  assert.equal(await status('vision.example.com'), 200);
  assert.equal(await status('Vision.Example.com:443'), 200);
  assert.equal(await status('ops.example.com:8443'), 200);
  assert.equal(await status('ops.example.com:9000'), 403);
  assert.equal(await status('ops.example.com'), 403);
  assert.equal(await status('10.1.2.3:8080'), 200);
  assert.equal(await status('localhost:8080'), 200);
  assert.equal(await status('other.example.com'), 403);
  assert.throws(() => loadConfig({ sets: ['server.allowedHosts=["https://vision.example.com/"]'] }), /server\.allowedHosts\.0/);
  assert.throws(() => loadConfig({ sets: ['server.allowedHosts="vision.example.com"'] }), /server\.allowedHosts/);
});

test('every answer carries nosniff; pages and all answers carry the CSP, frame and referrer headers', async () => {
  const secured = await serverWith([`auth.keys=${JSON.stringify(KEY_ENTRIES)}`]);
  const answers = {
    health: await secured.inject({ method: 'GET', url: '/healthz' }),
    json: await secured.inject({ method: 'GET', url: '/v1/alerts', headers: bearer(KEYS.admin) }),
    refusal: await secured.inject({ method: 'GET', url: '/v1/alerts' }),
    notFound: await secured.inject({ method: 'GET', url: '/v1/nothing' }),
    page: await secured.inject({ method: 'GET', url: '/review' }),
    dashboard: await secured.inject({ method: 'GET', url: '/dashboard' }),
    hostRefusal: await secured.inject({ method: 'GET', url: '/healthz', headers: { host: 'evil.example' } }),
  };
  // A streamed answer writes its own head: the headers must still go out with it. A blank page
  // stops at the gate, after its quality event, so no model is needed.
  const streamed = await (await serverWith([])).inject({ method: 'POST', url: '/v1/predict?stream=1', headers: { 'content-type': 'image/png' }, payload: await blank(900, 600) });
  assert.match(String(streamed.headers['content-type']), /text\/event-stream/);
  assert.match(streamed.body, /event: quality/);
  assert.equal(streamed.headers['x-content-type-options'], 'nosniff');
  assert.match(String(streamed.headers['content-security-policy']), /frame-ancestors 'none'/);

  assert.equal(answers.json.statusCode, 200);
  assert.equal(answers.refusal.statusCode, 401);
  assert.equal(answers.notFound.statusCode, 404);
  for (const [name, response] of Object.entries(answers)) {
    assert.equal(response.headers['x-content-type-options'], 'nosniff', name);
    assert.equal(response.headers['x-frame-options'], 'DENY', name);
    assert.equal(response.headers['referrer-policy'], 'no-referrer', name);
    const policy = String(response.headers['content-security-policy']);
    assert.match(policy, /frame-ancestors 'none'/, name);
    // Scripts from this server only, no eval or inline script; WebAssembly may compile (the capture page's on-device models).
    assert.match(policy, /script-src 'self'( 'wasm-unsafe-eval')?(;|$)/, name);
    assert.match(policy, /style-src 'self'(;|$)/, name);
    assert.match(policy, /default-src 'self'/, name);
  }
  if (existsSync(new URL('../dist/web/review/index.html', import.meta.url))) {
    assert.equal(answers.page.statusCode, 200);
    assert.match(String(answers.page.headers['content-type']), /text\/html/);
    const script = /src="(\/web\/assets\/[^"]+\.js)"/.exec(answers.page.body)?.[1];
    assert.ok(script !== undefined, 'the built page loads a script from /web/assets');
    const asset = await secured.inject({ method: 'GET', url: script });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers['x-content-type-options'], 'nosniff');
  }
});

test('the built pages run under their Content-Security-Policy in Chromium: nothing they load is blocked', async () => {
  assert.ok(existsSync(new URL('../dist/web/review/index.html', import.meta.url)), 'the pages are not built: npm ci builds them, or run npm run build');
  const browser = await launchChromium();
  try {
    const app = await serverWith([`auth.keys=${JSON.stringify(KEY_ENTRIES)}`]);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    await seedTask(fixture, { truth: ['Invoice 20417 paid'], read: [{ text: 'Invoice 20417 paid', confidence: 0.7 }] });
    const page = await browser.newPage();
    const violations: string[] = [];
    await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
    // In the page (a string: the tests are compiled without the DOM's types).
    await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => reportViolation(event.violatedDirective + ' ' + event.blockedURI))`);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${address}/review`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.locator('#key').fill(KEYS.review);
    await page.keyboard.press('Enter');
    // The task's image arrives as a blob: URL and each line is cropped onto a canvas.
    await page.locator('#image[src^="blob:"]').waitFor({ state: 'attached', timeout: 10_000 });
    await page.locator('#lines canvas').first().waitFor({ state: 'attached', timeout: 10_000 });
    assert.ok(await page.evaluate(`document.querySelector('#image').complete && document.querySelector('#image').naturalWidth > 0`), 'the image shows');
    assert.equal(await page.evaluate(`getComputedStyle(document.body).backgroundColor`), 'rgb(246, 247, 249)', "the page's stylesheet applies");

    await page.goto(`${address}/dashboard`);
    await page.waitForLoadState('networkidle');
    assert.equal(await page.evaluate(`getComputedStyle(document.querySelector('header')).display`), 'flex', "the dashboard's stylesheet applies");
    // The dashboard's thumbnails are data: images; one drawn here shows the policy admits them.
    const thumbnail = await page.evaluate(`new Promise((resolve) => {
      const image = new Image();
      image.onload = () => resolve(image.naturalWidth === 1);
      image.onerror = () => resolve(false);
      image.src = 'data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==';
      document.body.append(image);
    })`);
    assert.ok(thumbnail, 'a data: thumbnail shows');
    // What an injection would add runs nowhere: an inline script, an inline style.
    const injected = await page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
      const style = document.createElement('style');
      style.textContent = 'body { margin-left: 321px; }';
      document.head.append(style);
      return { ran: window.inlineRan === true, styled: getComputedStyle(document.body).marginLeft === '321px' };
    })()`);
    assert.deepEqual(injected, { ran: false, styled: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(problems, []);
    const blockedInjections = ['script-src-elem inline', 'style-src-elem inline'];
    assert.deepEqual(violations.filter((violation) => !blockedInjections.includes(violation)), [], 'nothing the pages load themselves is blocked');
    assert.deepEqual([...new Set(violations)].sort(), blockedInjections, 'the injected script and style were blocked by the policy');
  } finally {
    await browser.close();
  }
});

test('over server.rateLimit a key gets 429 RATE_LIMITED with Retry-After; other keys and addresses keep their own budget', async () => {
  const app = await serverWith([`auth.keys=${JSON.stringify(KEY_ENTRIES)}`, 'server.rateLimit={"max":3,"windowSeconds":60}']);
  const stats = (key: string) => app.inject({ method: 'GET', url: '/v1/reviews/stats', headers: bearer(key) });
  for (let i = 0; i < 3; i++) assert.equal((await stats(KEYS.review)).statusCode, 200);
  const limited = await stats(KEYS.review);
  const message = expectError(limited, 429, 'RATE_LIMITED');
  assert.match(message, /review-holder/);
  assert.match(message, /server\.rateLimit/);
  const retryAfter = Number(limited.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${limited.headers['retry-after']}`);
  assert.equal(limited.headers['x-content-type-options'], 'nosniff');
  // The same key on another route shares its budget; another key has its own.
  expectError(await app.inject({ method: 'GET', url: '/v1/alerts', headers: bearer(KEYS.review) }), 403, 'FORBIDDEN');
  expectError(await app.inject({ method: 'GET', url: '/v1/reviews', headers: bearer(KEYS.review) }), 429, 'RATE_LIMITED');
  assert.equal((await stats(KEYS.admin)).statusCode, 200);
  // Without a key, the client's address is counted.
  const health = (remoteAddress: string) => app.inject({ method: 'GET', url: '/healthz', remoteAddress });
  for (let i = 0; i < 3; i++) assert.equal((await health('192.0.2.10')).statusCode, 200);
  expectError(await health('192.0.2.10'), 429, 'RATE_LIMITED');
  assert.equal((await health('192.0.2.11')).statusCode, 200);

  const keysOff = await serverWith(['server.rateLimit={"max":2,"windowSeconds":60}']);
  const events = () => keysOff.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: Buffer.from([1]) });
  expectError(await events(), 415, 'UNSUPPORTED_FORMAT');
  expectError(await events(), 415, 'UNSUPPORTED_FORMAT');
  expectError(await events(), 429, 'RATE_LIMITED');

  const unlimited = await serverWith(['server.rateLimit.max=0']);
  for (let i = 0; i < 20; i++) assert.equal((await unlimited.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});
