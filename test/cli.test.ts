import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openSqliteStores } from '../src/store/sqlite/index.js';
import { blank, renderDocument } from './fixtures/documents.js';
import { randomBytes } from './fixtures/images.js';
import { visionops } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-cli-'));
const images = join(dir, 'images');

before(async () => {
  mkdirSync(images);
  writeFileSync(join(images, 'page.png'), await renderDocument({ lines: ['Invoice 20417 paid', 'Total amount: 1250.40'], width: 800 }));
  writeFileSync(join(images, 'blank.png'), await blank(800, 600));
  writeFileSync(join(images, 'noise.jpg'), randomBytes(2048));
  writeFileSync(join(images, 'notes.txt'), 'not an image, and not taken from a folder');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('config prints the effective configuration as JSON, with the file and --set applied', async () => {
  const file = join(dir, 'visionops.json');
  writeFileSync(file, JSON.stringify({ server: { port: 9000 } }));
  const { code, stdout } = await visionops('config', '--config', file, '--set', 'server.host=0.0.0.0', '--set', 'pipeline.decision.reviewThreshold=0.9');
  assert.equal(code, 0);
  const config = JSON.parse(stdout);
  assert.equal(config.server.port, 9000);
  assert.equal(config.server.host, '0.0.0.0');
  assert.equal(config.pipeline.decision.reviewThreshold, 0.9);
  assert.equal(config.data.dir, './data');
});

test('an invalid configuration stops any command with exit 2, naming the key', async () => {
  const { code, stderr } = await visionops('config', '--set', 'server.port=high');
  assert.equal(code, 2);
  assert.match(stderr, /INVALID_CONFIG/);
  assert.match(stderr, /server\.port: expected number/);
});

test('check runs the gate alone: each finding with its guidance, exit 1 when an image fails or cannot be read', async () => {
  const failing = await visionops('check', images);
  assert.equal(failing.code, 1, failing.stderr);
  assert.match(failing.stdout, /page\.png: pass/);
  assert.match(failing.stdout, /blank\.png: fail/);
  assert.match(failing.stdout, /FAIL information .*: .+/);
  assert.match(failing.stdout, /noise\.jpg: error UNSUPPORTED_FORMAT/);
  assert.doesNotMatch(failing.stdout, /notes\.txt/);

  const passing = await visionops('check', join(images, 'page.png'));
  assert.equal(passing.code, 0, passing.stderr);
});

test("check gates as the chosen pipeline does: its region of interest; a pipeline not configured is exit 2", async () => {
  // The second pipeline reads only a 12 x 12 corner of the margin: too small for the gate, which judges the crop.
  const pipelines = '[{"name":"document"},{"name":"margin","settings":{"roi":{"left":0,"top":0,"width":12,"height":12}}}]';
  const page = join(images, 'page.png');
  const whole = await visionops('check', page, '--set', `pipelines=${pipelines}`);
  assert.equal(whole.code, 0, whole.stderr);
  const margin = await visionops('check', page, '--set', `pipelines=${pipelines}`, '--pipeline', 'margin');
  assert.equal(margin.code, 1, margin.stderr);
  assert.match(margin.stdout, /FAIL resolution \(score 12,/);
  const unknown = await visionops('check', page, '--pipeline', 'receipts');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /UNKNOWN_PIPELINE/);
});

test('run predicts every image, records it under --data, writes results.jsonl and prints the summary', async () => {
  const data = join(dir, 'data');
  const out = join(dir, 'results.jsonl');
  const { code, stdout, stderr } = await visionops('run', images, '--data', data, '--out', out);
  assert.equal(code, 1, `a file in error makes the exit status 1\n${stderr}`);
  assert.match(stdout, /^3 files in /m);
  assert.match(stdout, /accepted (\d+), review (\d+), rejected 1, errors 1 \(UNSUPPORTED_FORMAT 1\)/);
  const [, accepted, review] = stdout.match(/accepted (\d+), review (\d+)/) ?? [];
  assert.equal(Number(accepted) + Number(review), 1);
  assert.match(stdout, /latency per image: p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms/);
  assert.match(stderr, /noise\.jpg: UNSUPPORTED_FORMAT: /);

  const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(lines.length, 3);
  const byFile = new Map(lines.map((line) => [line.file.split('/').pop(), line]));
  assert.equal(byFile.get('blank.png').record.decision, 'reject');
  assert.ok(['accept', 'review'].includes(byFile.get('page.png').record.decision));
  assert.equal(byFile.get('noise.jpg').error.code, 'UNSUPPORTED_FORMAT');

  const stores = openSqliteStores(join(data, 'visionops.db'));
  const store = stores.predictions;
  try {
    const saved = await store.list({ limit: 10 });
    assert.deepEqual(saved.map((r) => r.id).sort(), [byFile.get('blank.png').record.id, byFile.get('page.png').record.id].sort());
    assert.deepEqual(await store.get(byFile.get('page.png').record.id), byFile.get('page.png').record);
  } finally {
    await stores.close();
  }
});

test('a path that does not exist is a usage error (exit 2) before any model loads', async () => {
  const { code, stderr } = await visionops('run', join(dir, 'absent'), '--data', join(dir, 'unused'));
  assert.equal(code, 2);
  assert.match(stderr, /No such file or folder/);
});
