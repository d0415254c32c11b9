import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockUnacceptedLoaders } from '../src/image/decode.js';
import { HTTP_STATUS } from '../src/server/http-errors.js';
import { makeInput, runFuzz } from '../scripts/fuzz/run.js';
import { makeSeeds } from '../scripts/fuzz/seeds.js';

const INPUTS = 3000;
const seeds = await makeSeeds();
// After the seeds, which are rendered from SVG: the blocked loaders include it.
blockUnacceptedLoaders();

test(`${INPUTS} damaged images through ingest and the gate: no crash, no hang, every refusal a coded 4xx`, async () => {
  const report = await runFuzz(seeds, { count: INPUTS, seed: 20261207 });
  assert.equal(report.inputs, INPUTS);
  assert.deepEqual(report.crashes, []);
  assert.deepEqual(report.hangs, []);
  assert.deepEqual(report.notClientErrors, []);
  const refused = Object.values(report.refusals).reduce((sum, n) => sum + n, 0);
  assert.equal(report.accepted + refused, INPUTS);
  for (const code of Object.keys(report.refusals)) {
    const status = HTTP_STATUS[code as keyof typeof HTTP_STATUS];
    assert.ok(status >= 400 && status < 500, `${code} is ${status}`);
  }
  // The harness must reach the decoders, not only the sniffer: most inputs are refused as damaged, some pass.
  assert.ok((report.refusals.CORRUPT_IMAGE ?? 0) > INPUTS / 4, JSON.stringify(report.refusals));
  assert.ok(report.accepted > INPUTS / 20, `accepted ${report.accepted}`);
});

test('an input depends on the run seed and its index only', () => {
  const alone = makeInput(seeds, 5, 1234);
  assert.deepEqual(makeInput(seeds, 5, 1234), alone);
  assert.notDeepEqual(makeInput(seeds, 6, 1234).bytes, alone.bytes);
});
