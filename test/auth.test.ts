import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config/load.js';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { hashKey } from '../src/server/auth.js';
import { noModelsPipeline } from './helpers/pipelines.js';
import { visionops } from './helpers/cli.js';
import { closeFixture, reviewFixture, seedTask, type ReviewFixture } from './helpers/review.js';

const KEYS = { predict: 'vo_predict-key-for-tests', review: 'vo_review-key-for-tests', admin: 'vo_admin-key-for-tests' };
const READ = [{ text: 'Invoice 20417 paid', confidence: 0.7 }];

let fixture: ReviewFixture;
let secured: FastifyInstance;
let open: FastifyInstance;

const systems: Visionops[] = [];

async function serverWith(sets: string[]): Promise<FastifyInstance> {
  const config = loadConfig({ sets: ['server.logLevel="silent"', ...sets] });
  const system = await createVisionops(config, { overrides: { stores: fixture.stores, pipelines: [noModelsPipeline], lab: [] } });
  systems.push(system);
  return system.server();
}

before(async () => {
  fixture = reviewFixture();
  const keys = Object.entries(KEYS).map(([scope, key]) => ({ id: `${scope}-holder`, sha256: hashKey(key), scopes: [scope] }));
  secured = await serverWith([`auth.keys=${JSON.stringify(keys)}`]);
  open = await serverWith([]);
});
after(async () => {
  for (const system of systems) await system.close();
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
