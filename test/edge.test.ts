import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { backoffDelay, worthRetrying } from '../src/core/edge/backoff.js';
import { EDGE_POLICIES, linkPolicy } from '../src/core/edge/policy.js';
import { parseEdgeRoute } from '../src/core/edge/route.js';
import { EdgeAgent, type FileOutcome } from '../src/edge/agent.js';
import { FolderOutbox } from '../src/edge/outbox.js';
import type { Frame } from '../src/core/frame.js';
import type { Quad } from '../src/core/postprocess/geometry.js';
import type { QualityReport } from '../src/core/quality/types.js';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { fixedReadingPipeline } from './helpers/pipelines.js';
import { freePort } from './helpers/ports.js';
import { randomLines, renderDocument } from './fixtures/documents.js';

const systems: Visionops[] = [];
const data = mkdtempSync(join(tmpdir(), 'visionops-edge-route-'));
after(async () => {
  for (const system of systems) await system.close();
  rmSync(data, { recursive: true, force: true });
});

test('an edge route is one JSON object of known fields; anything else is INVALID_REQUEST naming what to send', () => {
  const route = { policy: 'hybrid', client: 'agent', device: ['gate', 'duplicates'], sent: 'downscaled' };
  assert.deepEqual(parseEdgeRoute(JSON.stringify(route)), route);
  assert.equal(parseEdgeRoute(undefined), undefined);
  for (const hostile of ['{', '[]', JSON.stringify({ ...route, policy: 'moon' }), JSON.stringify({ ...route, extra: 1 }), JSON.stringify({ ...route, device: ['gate', 'gate', 'gate', 'gate', 'gate'] }), [JSON.stringify(route), JSON.stringify(route)]]) {
    assert.throws(() => parseEdgeRoute(hostile), (error: { code?: string; message?: string }) => error.code === 'INVALID_REQUEST' && /X-Visionops-Edge/.test(error.message ?? ''));
  }
});

test("a capture link chooses a policy only when it sends no more than the deployment's: never an original where the deployment sends none", () => {
  const chosen = Object.fromEntries(EDGE_POLICIES.map((deployment) => [deployment, Object.fromEntries(EDGE_POLICIES.map((asked) => [asked, linkPolicy(deployment, asked).policy]))]));
  assert.deepEqual(chosen, {
    device: { device: 'device', hybrid: 'hybrid', cloud: 'device' },
    hybrid: { device: 'device', hybrid: 'hybrid', cloud: 'hybrid' },
    cloud: { device: 'device', hybrid: 'hybrid', cloud: 'cloud' },
  });
  assert.deepEqual(linkPolicy('hybrid', 'cloud'), { policy: 'hybrid', chosen: false });
  assert.deepEqual(linkPolicy('device', null), { policy: 'device', chosen: true }, "without a choice, the deployment's");
});

test('backoff grows exponentially to its ceiling with full jitter; only a cloud away or busy is retried', () => {
  const settings = { baseMs: 100, maxMs: 1000 };
  assert.deepEqual([1, 2, 3, 4, 5, 9].map((attempt) => backoffDelay(attempt, settings, () => 0.999999)), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoffDelay(3, settings, () => 0), 0);
  assert.deepEqual([null, 408, 429, 500, 503].map(worthRetrying), [true, true, true, true, true]);
  assert.deepEqual([400, 401, 413, 422].map(worthRetrying), [false, false, false, false]);
});

test('the server keeps the route in lineage.edge (not in the source) and refuses a malformed one before reading the image', async () => {
  const system = await createVisionops(loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(data)}`, 'edge.policy="cloud"'] }), { overrides: { pipelines: [fixedReadingPipeline], lab: [] } });
  systems.push(system);
  const app = await system.server();
  const image = await renderDocument({ lines: ['Invoice 20417 paid', 'Total amount: 1250.40'] });
  const route = { policy: 'cloud', client: 'capture-page', device: ['gate'], sent: 'original', deviceVerdict: 'pass', capturedAt: '2026-12-07T03:00:00.000Z' };
  const answer = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png', 'x-visionops-edge': JSON.stringify(route) }, payload: image });
  assert.equal(answer.statusCode, 200, answer.body);
  const { id, lineage } = answer.json();
  assert.deepEqual(lineage.edge, route);
  const record = (await app.inject({ method: 'GET', url: `/v1/predictions/${id}` })).json();
  assert.equal(record.source.edge, undefined);
  assert.deepEqual(record.lineage.edge, route);

  const refused = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png', 'x-visionops-edge': '{"policy":"moon"}' }, payload: image });
  assert.equal(refused.statusCode, 400);
  assert.equal(refused.json().error.code, 'INVALID_REQUEST');
});

test('the folder outbox is bounded: past its limits it refuses with OUTBOX_FULL and evicts nothing; a key is queued once; a torn write is swept', async () => {
  const dir = join(data, 'outbox');
  const outbox = await new FolderOutbox(dir, { maxItems: 2, maxBytes: 1000 }).open();
  const route = { policy: 'hybrid' as const, client: 'agent' as const, device: ['gate' as const], sent: 'downscaled' as const };
  const item = (key: string, bytes: number) => ({ key, file: `${key}.jpg`, route, contentType: 'application/octet-stream', originalBytes: bytes * 4, sentBytes: bytes, attempts: 0, notBefore: 0, queuedAt: Date.now() });
  await outbox.add(item('a', 400), new Uint8Array(400));
  await outbox.add(item('a', 400), new Uint8Array(400));
  assert.equal((await outbox.items()).length, 1, 'the same key twice is one upload');
  await assert.rejects(outbox.add(item('big', 700), new Uint8Array(700)), (error: { code?: string }) => error.code === 'OUTBOX_FULL');
  await outbox.add(item('b', 500), new Uint8Array(500));
  await assert.rejects(outbox.add(item('c', 10), new Uint8Array(10)), (error: { code?: string }) => error.code === 'OUTBOX_FULL');
  assert.deepEqual((await outbox.items()).map((queued) => queued.key).sort(), ['a', 'b'], 'nothing queued was evicted');
  assert.equal((await outbox.payload('b')).length, 500);

  writeFileSync(join(dir, 'c.json.123.tmp'), '{"torn');
  const reopened = await new FolderOutbox(dir, { maxItems: 2, maxBytes: 1000 }).open();
  assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), []);
  await reopened.remove('a');
  await reopened.add(item('c', 10), new Uint8Array(10));
  assert.deepEqual((await reopened.items()).map((queued) => queued.key).sort(), ['b', 'c'], 'room freed is taken');
});

test('under hybrid the agent sends the crops its detector finds, and the downscaled page when it finds none, too many, or fails, saying which in the route', async () => {
  const watch = join(data, 'hybrid-watch');
  mkdirSync(watch);
  const page = await renderDocument({ lines: randomLines(7, 3), fontSize: 28, width: 900 });
  const names = ['lines.png', 'no-text.png', 'too-many.png', 'detector-fails.png'];
  // Four captures of one page, told apart by their names; each its own scene (perceptual hashes far apart), so none is a repeat.
  for (const [i, name] of names.entries()) writeFileSync(join(watch, name), Buffer.concat([page, Buffer.from([i])]));
  const { data: pixels, info } = await sharp(page).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frame: Frame = { width: info.width, height: info.height, channels: 3, data: new Uint8Array(pixels) };
  const quad: Quad = [[30, 30], [400, 30], [400, 70], [30, 70]];
  const found: Record<string, () => Quad[]> = {
    'lines.png': () => [quad],
    'no-text.png': () => [],
    'too-many.png': () => [quad, quad, quad],
    'detector-fails.png': () => {
      throw new Error('the session could not run');
    },
  };
  const phashes = ['0000000000000000', 'ffffffffffffffff', '00000000ffffffff', 'ffffffff00000000'];
  const passed = { verdict: 'pass', checks: [], guidance: [] } as unknown as QualityReport;
  let current = '';
  const detector = { find: async () => found[current](), close: async () => undefined };
  const outbox = await new FolderOutbox(join(data, 'hybrid-outbox')).open();
  const outcomes = new Map<string, FileOutcome>();
  const settings = { watch, policy: 'hybrid' as const, cloud: { url: 'http://127.0.0.1:9', timeoutMs: 1000 }, backoff: { baseMs: 60_000, maxMs: 60_000 }, duplicateDistance: 4, duplicateWindow: 32, settleMs: 0, maxCrops: 2 };
  const agent = new EdgeAgent(settings, async (bytes) => {
    const index = bytes[bytes.length - 1];
    current = names[index];
    return { quality: passed, phash: phashes[index], frame };
  }, detector, null, outbox, ({ file, result }) => outcomes.set(file.slice(watch.length + 1), result));
  assert.equal(await agent.scan(), 4);
  await agent.drain();

  const items = new Map((await outbox.items()).map((item) => [item.file.slice(watch.length + 1), item]));
  assert.equal(items.size, 4, 'the cloud is away: all four wait');
  const lines = items.get('lines.png')!;
  assert.deepEqual([lines.route.sent, lines.route.device], ['crops', ['gate', 'duplicates', 'detection']]);
  assert.match(lines.contentType, /^multipart\/form-data; boundary=/);
  assert.match(Buffer.from(await outbox.payload(lines.key)).toString('latin1'), /name="regions"[\s\S]*name="crop"; filename="crop-0.jpg"/);
  assert.deepEqual(outcomes.get('lines.png'), { outcome: 'queued', key: lines.key, sent: 'crops', sentBytes: lines.sentBytes, crops: 1 });
  for (const name of ['no-text.png', 'too-many.png', 'detector-fails.png']) {
    const item = items.get(name)!;
    assert.deepEqual([item.route.sent, item.route.device, item.contentType], ['downscaled', ['gate', 'duplicates'], 'application/octet-stream'], name);
    assert.deepEqual([...(await outbox.payload(item.key)).subarray(0, 2)], [0xff, 0xd8], `${name} goes as a JPEG page`);
  }
  assert.match((outcomes.get('detector-fails.png') as { detectionFailed?: string }).detectionFailed ?? '', /could not run/);
  assert.deepEqual((await agent.report()).sentAs, { original: 0, downscaled: 3, crops: 1 });
});

test('a restarted agent still knows the captures it forwarded: the same scene after a restart is dropped; a torn memory starts empty, and nothing fails', async () => {
  const watch = join(data, 'memory-watch');
  mkdirSync(watch);
  const page = await renderDocument({ lines: randomLines(9, 2), fontSize: 28, width: 600 });
  const { data: pixels, info } = await sharp(page).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frame: Frame = { width: info.width, height: info.height, channels: 3, data: new Uint8Array(pixels) };
  const passed = { verdict: 'pass', checks: [], guidance: [] } as unknown as QualityReport;
  // Each file's last byte picks its perceptual hash: the second is 2 bits from the first (the same scene), the third far from both, the fourth 2 bits from the third.
  const phashes = ['00000000000000ff', '00000000000000fc', 'ffffffff00000000', 'ffffffff00000003'];
  // hybrid without a detector: the page goes downscaled.
  const settings = { watch, policy: 'hybrid' as const, cloud: { url: 'http://127.0.0.1:9', timeoutMs: 1000 }, backoff: { baseMs: 60_000, maxMs: 60_000 }, duplicateDistance: 4, duplicateWindow: 32, settleMs: 0, maxCrops: 2 };
  const outboxDir = join(data, 'memory-outbox');
  const outcomes = new Map<string, FileOutcome>();
  const agent = async () =>
    new EdgeAgent(settings, async (bytes) => ({ quality: passed, phash: phashes[bytes[bytes.length - 1]], frame }), null, null, await new FolderOutbox(outboxDir).open(), ({ file, result }) => outcomes.set(file.slice(watch.length + 1), result));
  const capture = (name: string, index: number) => writeFileSync(join(watch, name), Buffer.concat([page, Buffer.from([index])]));

  capture('first.png', 0);
  assert.equal(await (await agent()).scan(), 1);
  assert.equal(outcomes.get('first.png')?.outcome, 'queued');
  // The agent stops; the camera still sees the same scene when it is back.
  capture('again.png', 1);
  assert.equal(await (await agent()).scan(), 1);
  assert.deepEqual(outcomes.get('again.png'), { outcome: 'unchanged', of: join(watch, 'first.png'), distance: 2 }, 'the restarted agent remembers what it forwarded');

  writeFileSync(join(outboxDir, 'recent-captures.state'), '[{"file": "torn');
  capture('torn-1.png', 2);
  capture('torn-2.png', 3);
  assert.equal(await (await agent()).scan(), 2);
  assert.equal(outcomes.get('torn-1.png')?.outcome, 'queued', 'a memory that cannot be read starts empty');
  assert.deepEqual(outcomes.get('torn-2.png'), { outcome: 'unchanged', of: join(watch, 'torn-1.png'), distance: 2 }, 'and is written anew from what is forwarded since');
  assert.deepEqual((await (await new FolderOutbox(outboxDir).open()).items()).map((item) => item.file.slice(watch.length + 1)).sort(), ['first.png', 'torn-1.png'], 'the memory is not an upload: the two forwarded wait');
});

test('an agent that lost its answers and sends a capture otherwise than the first time finds the record its key made, and writes it down as recorded, not refused', async () => {
  const system = await createVisionops(loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(data, 'reused'))}`] }), { overrides: { pipelines: [fixedReadingPipeline], lab: [] } });
  systems.push(system);
  const app = await system.server();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  const watch = join(data, 'reused-watch');
  mkdirSync(watch);
  const page = await renderDocument({ lines: randomLines(8, 3), fontSize: 28, width: 900 });
  writeFileSync(join(watch, 'page.png'), page);
  const { data: pixels, info } = await sharp(page).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frame: Frame = { width: info.width, height: info.height, channels: 3, data: new Uint8Array(pixels) };
  const passed = { verdict: 'pass', checks: [], guidance: [] } as unknown as QualityReport;
  const settings = { watch, policy: 'hybrid' as const, cloud: { url: `http://127.0.0.1:${address.port}`, timeoutMs: 10_000 }, backoff: { baseMs: 1, maxMs: 1 }, duplicateDistance: 4, duplicateWindow: 32, settleMs: 0, maxCrops: 8 };
  const run = async (detector: { find: () => Promise<Quad[]>; close: () => Promise<void> } | null) => {
    const outcomes: FileOutcome[] = [];
    const outbox = await new FolderOutbox(join(data, `reused-outbox-${detector === null ? 'page' : 'crops'}`)).open();
    const agent = new EdgeAgent(settings, async () => ({ quality: passed, phash: '0f0f0f0f0f0f0f0f', frame }), detector, null, outbox, ({ result }) => outcomes.push(result));
    await agent.scan();
    await agent.drain();
    return outcomes.filter((outcome) => outcome.outcome !== 'queued');
  };

  // First without a detector (it did not load): the page goes, and the cloud records it.
  const [first] = await run(null);
  assert.equal(first.outcome, 'recorded', JSON.stringify(first));
  // The answers beside the file are lost; now the detector loads and the same capture goes as crops, under the same key.
  for (const name of readdirSync(watch).filter((name) => name !== 'page.png')) rmSync(join(watch, name));
  const [second] = await run({ find: async () => [[[30, 30], [400, 30], [400, 70], [30, 70]]], close: async () => undefined });
  assert.deepEqual(second, { outcome: 'recorded', key: (first as { key: string }).key, id: (first as { id: string }).id, decision: null, replayed: true });

  const reused = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png', 'idempotency-key': (first as { key: string }).key }, payload: await renderDocument({ lines: ['another page'] }) });
  assert.equal(reused.statusCode, 422);
  assert.deepEqual([reused.json().error.code, reused.json().error.record], ['IDEMPOTENCY_KEY_REUSED', (first as { id: string }).id], 'the refusal names the record the key made');
});

test("a deployment that takes no originals refuses one from an edge device with POLICY_FORBIDS_ORIGINAL; an agent set to cloud that queued originals while the cloud was away follows the deployment and records each capture once, downscaled", async () => {
  const system = await createVisionops(loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(data, 'no-originals'))}`] }), { overrides: { pipelines: [fixedReadingPipeline], lab: [] } });
  systems.push(system);
  const app = await system.server();
  const image = await renderDocument({ lines: ['Invoice 20417 paid', 'Total amount: 1250.40'] });
  const original = { policy: 'cloud', client: 'agent', device: ['gate'], sent: 'original' };
  const refused = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png', 'x-visionops-edge': JSON.stringify(original) }, payload: image });
  assert.equal(refused.statusCode, 403, refused.body);
  assert.equal(refused.json().error.code, 'POLICY_FORBIDS_ORIGINAL');
  assert.match(refused.json().error.message, /"hybrid"/, "the refusal names the deployment's policy");
  const downscaled = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png', 'x-visionops-edge': JSON.stringify({ ...original, policy: 'hybrid', sent: 'downscaled' }) }, payload: image });
  assert.equal(downscaled.statusCode, 200, downscaled.body);
  const plain = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/png' }, payload: image });
  assert.equal(plain.statusCode, 200, 'an API client that states no edge route is not an edge device');

  const watch = join(data, 'no-originals-watch');
  mkdirSync(watch);
  const page = await renderDocument({ lines: randomLines(6, 3), fontSize: 28, width: 900 });
  for (const [i, name] of ['a.png', 'b.png'].entries()) writeFileSync(join(watch, name), Buffer.concat([page, Buffer.from([i])]));
  const { data: pixels, info } = await sharp(page).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frame: Frame = { width: info.width, height: info.height, channels: 3, data: new Uint8Array(pixels) };
  const passed = { verdict: 'pass', checks: [], guidance: [] } as unknown as QualityReport;
  const phashes = ['00000000000000ff', 'ffffffff00000000'];
  // The port is found before the server listens on it: the agent starts with the cloud away.
  const port = await freePort();
  const settings = { watch, policy: 'cloud' as const, cloud: { url: `http://127.0.0.1:${port}`, timeoutMs: 10_000 }, backoff: { baseMs: 1, maxMs: 1 }, duplicateDistance: 4, duplicateWindow: 32, settleMs: 0, maxCrops: 8 };
  const outcomes: FileOutcome[] = [];
  const agent = new EdgeAgent(settings, async (bytes) => ({ quality: passed, phash: phashes[bytes[bytes.length - 1]], frame }), null, null, await new FolderOutbox(join(data, 'no-originals-outbox')).open(), ({ result }) => outcomes.push(result));
  assert.equal(await agent.scan(), 2);
  assert.equal(await agent.drain(), 2, 'the cloud is away: both wait, as originals');
  assert.deepEqual((await agent.report()).sentAs, { original: 2, downscaled: 0, crops: 0 });

  await app.listen({ host: '127.0.0.1', port });
  for (let pass = 0; pass < 4 && (await agent.drain()) > 0; pass++);
  const recorded = outcomes.filter((outcome) => outcome.outcome === 'recorded') as { id: string }[];
  assert.equal(recorded.length, 2, JSON.stringify(outcomes));
  assert.equal(outcomes.filter((outcome) => outcome.outcome === 'refused').length, 0, 'nothing accepted is lost');
  for (const { id } of recorded) {
    const { lineage } = (await app.inject({ method: 'GET', url: `/v1/predictions/${id}` })).json();
    assert.deepEqual({ policy: lineage.edge.policy, sent: lineage.edge.sent }, { policy: 'hybrid', sent: 'downscaled' });
  }
  const report = await agent.report();
  assert.deepEqual({ files: report.files, queued: report.queued, recorded: report.recorded, sentAs: report.sentAs }, { files: 2, queued: 2, recorded: 2, sentAs: { original: 0, downscaled: 2, crops: 0 } }, 'a capture taken again is counted once');
});

