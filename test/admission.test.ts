import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVisionopsError } from '../src/core/errors.js';
import { PixelAdmission } from '../src/image/admission.js';

const LIMITS = { budget: 100, waitMs: 60_000 };

/** Lets queued promises settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('images within the budget are admitted at once and give their pixels back once', async () => {
  const admission = new PixelAdmission();
  const first = await admission.admit(60, LIMITS);
  const second = await admission.admit(40, LIMITS);
  assert.equal(admission.pixelsInFlight, 100);
  first();
  first();
  assert.equal(admission.pixelsInFlight, 40, 'a second release changes nothing');
  second();
  assert.equal(admission.pixelsInFlight, 0);
});

test('an image alone is admitted whatever its size; one more waits for room', async () => {
  const admission = new PixelAdmission();
  const huge = await admission.admit(1000, LIMITS);
  let admitted = false;
  const next = admission.admit(1, LIMITS).then((release) => {
    admitted = true;
    return release;
  });
  await settle();
  assert.equal(admitted, false);
  assert.equal(admission.waiting, 1);
  huge();
  (await next)();
  assert.equal(admitted, true);
  assert.equal(admission.pixelsInFlight, 0);
});

test('waiters are admitted in arrival order: a small image does not pass a large one', async () => {
  const admission = new PixelAdmission();
  const held = await admission.admit(80, LIMITS);
  const order: string[] = [];
  const large = admission.admit(90, LIMITS).then((release) => (order.push('large'), release));
  const small = admission.admit(20, LIMITS).then((release) => (order.push('small'), release));
  await settle();
  assert.deepEqual(order, [], 'the small one fits beside the held pixels, but the large one came first');
  held();
  const releaseLarge = await large;
  await settle();
  assert.deepEqual(order, ['large']);
  releaseLarge();
  (await small)();
  assert.deepEqual(order, ['large', 'small']);
});

test('no room within waitMs is OVERLOADED with the retry time; the waiters behind it move up', async () => {
  const admission = new PixelAdmission();
  const held = await admission.admit(50, LIMITS);
  const refused = admission.admit(80, { budget: 100, waitMs: 10 });
  const behind = admission.admit(40, LIMITS);
  await assert.rejects(refused, (error) => {
    assert.ok(isVisionopsError(error));
    assert.equal(error.code, 'OVERLOADED');
    assert.match(error.message, /ingest\.inflightPixels/);
    assert.match(error.message, /Retry after 1 s/);
    assert.deepEqual(error.details, { pixels: 80, pixelsInFlight: 50, inflightPixels: 100, retryAfterSeconds: 1 });
    return true;
  });
  (await behind)();
  held();
  assert.equal(admission.waiting, 0);
  assert.equal(admission.pixelsInFlight, 0);
});
