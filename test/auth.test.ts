import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config/load.js';
import { hashKey, type RouteAccess, type RouteEntry } from '../src/server/auth.js';
import { modellessServers } from './helpers/modelless-servers.js';
import { visionops } from './helpers/cli.js';
import { closeFixture, reviewFixture, seedTask, type ReviewFixture } from './helpers/review.js';

const KEYS = { predict: 'vo_predict-key-for-tests', review: 'vo_review-key-for-tests', admin: 'vo_admin-key-for-tests' };
const READ = [{ text: 'Invoice 20417 paid', confidence: 0.7 }];

let fixture: ReviewFixture;
let secured: FastifyInstance;
let open: FastifyInstance;

const servers = modellessServers(() => fixture);
const serverWith = servers.serverWith;

before(async () => {
  fixture = reviewFixture();
  const keys = Object.entries(KEYS).map(([scope, key]) => ({ id: `${scope}-holder`, sha256: hashKey(key), scopes: [scope] }));
  secured = await serverWith([`auth.keys=${JSON.stringify(keys)}`]);
  open = await serverWith([]);
});
after(async () => {
  await servers.close();
  await closeFixture(fixture);
  rmSync(fixture.dir, { recursive: true, force: true });
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function expectError(response: { statusCode: number; json(): unknown }, status: number, code: string): void {
  assert.equal(response.statusCode, status, JSON.stringify(response.json()));
  assert.equal((response.json() as { error: { code: string } }).error.code, code);
}

test('with keys configured, routes refuse requests without a key, with an unknown key, or with a key lacking their scope', async () => {
  expectError(await secured.inject({ method: 'GET', url: '/v1/reviews' }), 401, 'UNAUTHORIZED');
  expectError(await secured.inject({ method: 'GET', url: '/v1/reviews', headers: bearer('vo_not-a-key') }), 401, 'UNAUTHORIZED');
  expectError(await secured.inject({ method: 'POST', url: '/v1/reviews/claim', headers: bearer(KEYS.predict) }), 403, 'FORBIDDEN');
  expectError(await secured.inject({ method: 'GET', url: '/v1/reviews/stats', headers: bearer(KEYS.predict) }), 403, 'FORBIDDEN');
  const post = (key: string) => secured.inject({ method: 'POST', url: '/v1/predict', headers: { ...bearer(key), 'content-type': 'image/png' }, payload: Buffer.from([1]) });
  expectError(await post(KEYS.review), 403, 'FORBIDDEN');
  expectError(await secured.inject({ method: 'GET', url: '/v1/predictions/0190a000-0000-7000-8000-000000000000', headers: bearer(KEYS.review) }), 403, 'FORBIDDEN');
  // Past the access check, the stub service answers; the code shows the request got through.
  expectError(await post(KEYS.predict), 415, 'UNSUPPORTED_FORMAT');
  expectError(await post(KEYS.admin), 415, 'UNSUPPORTED_FORMAT');
});

test('a review key claims and answers, and its holder is the reviewer on the answer', async () => {
  const seeded = await seedTask(fixture, { truth: ['Invoice 20417 paid'], read: READ });
  const claimed = await secured.inject({ method: 'POST', url: '/v1/reviews/claim', headers: bearer(KEYS.review) });
  assert.equal(claimed.statusCode, 200, claimed.body);
  assert.equal(claimed.json().id, seeded.id);
  assert.equal(claimed.json().claim.by, 'review-holder');
  const elsewhere = await secured.inject({ method: 'POST', url: `/v1/reviews/${seeded.id}/answer`, headers: bearer(KEYS.admin), payload: { verdict: 'confirm' } });
  expectError(elsewhere, 409, 'TASK_NOT_CLAIMED');
  const answered = await secured.inject({ method: 'POST', url: `/v1/reviews/${seeded.id}/answer`, headers: bearer(KEYS.review), payload: { verdict: 'confirm' } });
  assert.equal(answered.statusCode, 200, answered.body);
  assert.equal(answered.json().answer.by, 'review-holder');
});

test('health and the pages need no key', async () => {
  assert.equal((await secured.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  assert.notEqual((await secured.inject({ method: 'GET', url: '/review' })).statusCode, 401);
});

test('without keys every route is open, as local', async () => {
  const stats = await open.inject({ method: 'GET', url: '/v1/reviews/stats' });
  assert.equal(stats.statusCode, 200);
  expectError(await open.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: Buffer.from([1]) }), 415, 'UNSUPPORTED_FORMAT');
});

test('a state-changing request from another site is refused, with keys or without; reads and same-origin posts are not', async () => {
  for (const app of [open, secured]) {
    const headers = { ...bearer(KEYS.admin), origin: 'https://evil.example', host: 'localhost:8080' };
    expectError(await app.inject({ method: 'POST', url: '/v1/reviews/claim', headers }), 403, 'FORBIDDEN');
    expectError(await app.inject({ method: 'POST', url: '/v1/predict', headers: { ...headers, 'content-type': 'image/png' }, payload: Buffer.from([1]) }), 403, 'FORBIDDEN');
    const fetchMetadata = { ...bearer(KEYS.admin), 'sec-fetch-site': 'cross-site', host: 'localhost:8080' };
    expectError(await app.inject({ method: 'POST', url: '/v1/reviews/claim', headers: fetchMetadata }), 403, 'FORBIDDEN');
    assert.equal((await app.inject({ method: 'GET', url: '/v1/reviews', headers })).statusCode, 200, 'a read is harmless: the browser keeps the answer from the other site');
    const sameOrigin = await app.inject({ method: 'POST', url: '/v1/reviews/claim', headers: { ...bearer(KEYS.admin), origin: 'http://localhost:8080', host: 'localhost:8080' } });
    assert.ok([200, 204].includes(sameOrigin.statusCode), `same origin: ${sameOrigin.statusCode}`);
  }
});

test('a route that declares no scope needs admin: forgetting it locks the route, it does not open it', async () => {
  const keys = Object.entries(KEYS).map(([scope, key]) => ({ id: `${scope}-holder`, sha256: hashKey(key), scopes: [scope] }));
  const app = await serverWith([`auth.keys=${JSON.stringify(keys)}`]);
  try {
    app.get('/v1/forgotten', async () => ({ open: true }));
    app.get('/forgotten', async () => ({ open: true }));
    assert.deepEqual(
      app.routeTable().filter((route) => route.access === undefined).map((route) => `${route.method} ${route.url}`),
      ['GET /v1/forgotten', 'HEAD /v1/forgotten', 'GET /forgotten', 'HEAD /forgotten'],
    );
    for (const url of ['/v1/forgotten', '/forgotten', '/%66orgotten']) {
      expectError(await app.inject({ method: 'GET', url }), 401, 'UNAUTHORIZED');
      expectError(await app.inject({ method: 'GET', url, headers: bearer(KEYS.review) }), 403, 'FORBIDDEN');
      expectError(await app.inject({ method: 'GET', url, headers: bearer(KEYS.predict) }), 403, 'FORBIDDEN');
      assert.equal((await app.inject({ method: 'GET', url, headers: bearer(KEYS.admin) })).statusCode, 200);
    }
  } finally {
    await app.close();
  }
});

test('a path no route matches is 404 NOT_FOUND for everyone: no key, a wrong key, any key', async () => {
  for (const url of ['/v1/nothing', '/v3/alerts', '/v1/alerts/', '//v1/alerts', '/V1/ALERTS', '/v1%2Falerts']) {
    for (const headers of [{}, bearer('vo_not-a-key'), bearer(KEYS.predict), bearer(KEYS.admin)]) {
      expectError(await secured.inject({ method: 'GET', url, headers }), 404, 'NOT_FOUND');
    }
  }
});

test('configured keys must be SHA-256 digests with known scopes', () => {
  assert.throws(() => loadConfig({ sets: ['auth.keys=[{"id":"ana","sha256":"secret","scopes":["review"]}]'] }), /auth\.keys\.0\.sha256/);
  assert.throws(() => loadConfig({ sets: [`auth.keys=[{"id":"ana","sha256":"${'a'.repeat(64)}","scopes":["everything"]}]`] }), /auth\.keys\.0\.scopes/);
});

test('visionops key prints a new key and the entry that admits it, hashed', async () => {
  const { code, stdout } = await visionops('key', '--id', 'ana', '--scopes', 'review,predict');
  assert.equal(code, 0);
  const { key, entry } = JSON.parse(stdout);
  assert.match(key, /^vo_[\w-]{43}$/);
  assert.deepEqual(entry, { id: 'ana', sha256: hashKey(key), scopes: ['review', 'predict'] });
  const refused = await visionops('key', '--id', 'ana', '--scopes', 'everything');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /INVALID_CONFIG/);
});

/** How a request answers: its status, and the error code when the body is one (HEAD has none). */
interface Outcome {
  status: number;
  code: string | null;
}

/** A request over a real socket with the path sent byte for byte: no client normalises it first. */
function send(port: number, method: string, path: string, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        // The Open Inference Protocol's routes answer its own {"error": "..."} and name the code in a header.
        let code = (response.headers['x-visionops-error-code'] as string | undefined) ?? null;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error?.code ?? code;
        } catch {
          // Not JSON: the code, if any, is the header's.
        }
        resolve({ status: response.statusCode ?? 0, code });
      });
    });
    outgoing.on('error', (error) => reject(new Error(`${method} ${path}: ${error.message}`)));
    outgoing.end();
  });
}

/** A path that reaches the route: parameters get a well-formed id, the pages' wildcard a built asset. */
function concretePath(url: string): string {
  const assets = (() => {
    try {
      return readdirSync(new URL('../dist/web/assets/', import.meta.url));
    } catch {
      return ['missing.js'];
    }
  })();
  return url.replace(/:\w+/g, '0190a000-0000-7000-8000-000000000000').replace('*', `assets/${assets[0]}`);
}

/** Other spellings of the same path: each either reaches the same route (and the same check) or no route at all. */
function spellings(path: string): { path: string; sameRoute: boolean }[] {
  const percent = (text: string) => [...text].map((char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');
  const [, first, rest] = /^\/([^/]+)(.*)$/.exec(path) ?? ['', '', ''];
  return [
    { path: `/${percent(first)}${rest}`, sameRoute: true },
    { path: path.replace(/[a-z0-9]/gi, (char) => percent(char)), sameRoute: true },
    { path: path.replace(/[a-z]/gi, (char) => percent(char).toLowerCase()), sameRoute: true },
    { path: path.replace(/(?!^)\//g, '%2F'), sameRoute: false },
    { path: path.replace(/(?!^)\//g, '%2f'), sameRoute: false },
    { path: `/${path}`, sameRoute: false },
    { path: path.replace(/\//g, '//'), sameRoute: false },
    { path: `${path}/`, sameRoute: false },
    { path: path.toUpperCase(), sameRoute: false },
    { path: path.replace(/^\/(.)/, (_match, char: string) => `/${char.toUpperCase()}`), sameRoute: false },
    { path: path.replace(/\/([^/]+)$/, '/./$1'), sameRoute: false },
    { path: path.replace(/\/([^/]+)$/, '/x/../$1'), sameRoute: false },
    { path: `${path}%00`, sameRoute: false },
    { path: `${path};x`, sameRoute: false },
  ];
}

type Caller = 'no key' | 'wrong key' | keyof typeof KEYS;
const CALLERS: Caller[] = ['no key', 'wrong key', 'predict', 'review', 'admin'];

function headersOf(caller: Caller): Record<string, string> {
  if (caller === 'no key') return {};
  return bearer(caller === 'wrong key' ? 'vo_not-a-key' : KEYS[caller]);
}

/** What the route's declaration promises this caller: refused with a code, or let through (whatever the handler then says). */
function promised(access: RouteAccess | undefined, caller: Caller): Outcome | 'through' {
  if (caller === 'wrong key') return { status: 401, code: 'UNAUTHORIZED' };
  const needed = access ?? 'admin';
  if (needed === 'public') return 'through';
  if (caller === 'no key') return { status: 401, code: 'UNAUTHORIZED' };
  return caller === needed || caller === 'admin' ? 'through' : { status: 403, code: 'FORBIDDEN' };
}

function matches(outcome: Outcome, method: string, expected: Outcome | 'through'): boolean {
  if (expected === 'through') return outcome.status !== 401 && outcome.status !== 403;
  return outcome.status === expected.status && (method === 'HEAD' || outcome.code === expected.code);
}

const isNotFound = (outcome: Outcome, method: string) => outcome.status === 404 && (method === 'HEAD' || outcome.code === 'NOT_FOUND');

test('every registered route, however its path is spelled, answers each caller as its declared scope says', async () => {
  const routes: RouteEntry[] = secured.routeTable();
  // The table misses no route of fastify's own tree: the same methods, as many times.
  const printed = [...secured.printRoutes({ commonPrefix: false }).matchAll(/\(([A-Z, ]+)\)/g)].flatMap((match) => match[1].split(', '));
  assert.deepEqual(routes.map((route) => route.method).sort(), printed.sort());
  assert.deepEqual(routes.filter((route) => route.access === undefined), [], 'every route declares its scope, or public');
  assert.ok(routes.some((route) => route.url === '/v1/alerts' && route.access === 'admin'));

  const address = new URL(await secured.listen({ host: '127.0.0.1', port: 0 }));
  const port = Number(address.port);
  const failures: string[] = [];
  let sent = 0;
  for (const route of routes) {
    const path = concretePath(route.url);
    for (const caller of CALLERS) {
      const expected = promised(route.access, caller);
      const canonical = await send(port, route.method, path, headersOf(caller));
      sent++;
      if (!matches(canonical, route.method, expected)) failures.push(`${caller} ${route.method} ${path}: ${JSON.stringify(canonical)}, promised ${JSON.stringify(expected)}`);
      for (const spelling of spellings(path)) {
        const outcome = await send(port, route.method, spelling.path, headersOf(caller));
        sent++;
        // A spelling the router decodes to this route gets this route's answer; any other reaches no route: 404 for everyone.
        const fine = spelling.sameRoute
          ? matches(outcome, route.method, expected)
          : isNotFound(outcome, route.method) || matches(outcome, route.method, expected);
        if (!fine) failures.push(`${caller} ${route.method} ${spelling.path}: ${JSON.stringify(outcome)}, promised ${JSON.stringify(expected)} or 404`);
      }
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests`);
  assert.ok(sent > 1000, `${sent} requests`);
});
