import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { downscaledCopy } from '../src/edge/agent.js';
import { asJpeg, blank, blurred, characterErrorRate, randomLines, renderDocument } from './fixtures/documents.js';
import { freePort } from './helpers/ports.js';
import { storedRecords } from './helpers/stored-records.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'visionops-edge-agent-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});


/** The cloud as a child process, reading with the built-in models; resolves once it listens. */
function startCloud(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/edge-cloud.ts', dataDir, String(port), 'models'], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`the cloud exited (${code}) before listening`)));
  });
}

/** `visionops edge ... --once` from the sources; `lines` holds its stdout's JSON lines as they come. */
function startAgent(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'edge', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: any[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const complete = partial.split('\n');
    partial = complete.pop()!;
    lines.push(...complete.filter((line) => line !== '').map((line) => JSON.parse(line)));
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { lines, exited };
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 25));
  }
}

test('the agent gates and filters locally, sends only the text lines it finds, queues while the cloud is away, and over a cloud killed mid-drain records each capture exactly once', async (t) => {
  const watch = join(work, 'captures');
  const data = join(work, 'cloud');
  mkdirSync(watch);
  const printed = [0, 1, 2, 3, 4, 5].map((seed) => randomLines(100 + seed, 7));
  const pages = await Promise.all(printed.map((lines) => renderDocument({ lines, fontSize: 28, width: 1400 })));
  // Camera-box captures: photos as JPEG, a repeat of the first page (re-encoded: other bytes, same scene), a shaken one and a lens cap.
  const files: [string, Buffer][] = [
    ...(await Promise.all(pages.map(async (page, i) => [`page-${i}.jpg`, await asJpeg(page, 92)] as [string, Buffer]))),
    ['page-0-again.jpg', await asJpeg(pages[0], 75)],
    ['shaken.jpg', await asJpeg(await blurred(pages[1], 5), 92)],
    ['lens-cap.png', await blank(1200, 900, 12)],
  ];
  for (const [name, bytes] of files) writeFileSync(join(watch, name), bytes);

  const port = await freePort();
  const cloud = `http://127.0.0.1:${port}`;
  // The cloud is away when the agent starts: it gates, filters and queues, and keeps retrying.
  const agent = startAgent(['--cloud', cloud, '--watch', watch, '--policy', 'hybrid', '--once', '--set', 'edge.backoff.baseMs=50', '--set', 'edge.backoff.maxMs=400']);
  const decided = (outcome: string) => agent.lines.filter((line) => line.result?.outcome === outcome);
  await until(() => decided('queued').length === 6 && decided('rejected').length + decided('unreadable').length === 2, 'the agent to gate and queue the folder');
  for (const line of decided('queued')) {
    assert.equal(line.result.sent, 'crops', `${line.file} goes as its text lines`);
    assert.ok(line.result.crops >= 7, `${line.file}: the device finds the page's seven lines (${line.result.crops} regions)`);
  }
  assert.equal(decided('unchanged').length + decided('duplicate').length, 1, 'the repeated page is dropped');
  const rejected = decided('rejected');
  assert.ok(rejected.every((line) => line.result.guidance.length > 0), 'each rejected capture gets guidance');
  const blurGuidance = rejected.find((line) => line.file.endsWith('shaken.jpg'));
  assert.match(blurGuidance.result.guidance.join(' '), /blurry|still/i, "the shaken capture is told to hold still");
  assert.deepEqual(JSON.parse(readFileSync(join(watch, 'shaken.jpg.visionops.json'), 'utf8')).guidance, blurGuidance.result.guidance, 'the answer is written next to the file');

  // The cloud comes, is killed while it reads the second upload, and comes back.
  let server = await startCloud(data, port);
  await until(() => decided('recorded').length >= 1, 'a first record');
  await new Promise((done) => setTimeout(done, 120));
  server.kill('SIGKILL');
  await new Promise((done) => server.once('exit', done));
  const beforeRestart = decided('recorded').length;
  t.diagnostic(`killed the cloud after ${beforeRestart} records`);
  assert.ok(beforeRestart < 6, 'the kill landed mid-drain');
  server = await startCloud(data, port);
  const { code, stderr } = await agent.exited;
  assert.equal(code, 0, stderr);

  // An agent that lost its state (the answers beside the files) sends everything again: the keys find the first records.
  for (const [name] of files) rmSync(join(watch, `${name}.visionops.json`), { force: true });
  const again = startAgent(['--cloud', cloud, '--watch', watch, '--policy', 'hybrid', '--once']);
  assert.equal((await again.exited).code, 0);
  const replayed = again.lines.find((line) => line.report !== undefined).report;
  assert.deepEqual([replayed.recorded, replayed.replayed], [6, 6], 'every upload of the second run is a replay');
  server.kill('SIGKILL');
  await new Promise((done) => server.once('exit', done));

  const report = agent.lines.find((line) => line.report !== undefined).report;
  t.diagnostic(stderr.trim());
  assert.equal(report.waiting, 0, 'the outbox is drained');
  assert.equal(report.recorded, 6);
  assert.deepEqual(report.sentAs, { original: 0, downscaled: 0, crops: 6 });
  assert.ok(report.sentBytes < report.originalBytes, `hybrid sends less than every original (${report.sentBytes} of ${report.originalBytes} bytes)`);
  // The bytes of the six forwarded captures three ways: what the agent sent (crops), the downscaled pages it sent before, the originals.
  const forwarded = decided('queued').map((line) => readFileSync(line.file));
  const cropBytes = decided('queued').reduce((total, line) => total + line.result.sentBytes, 0);
  const pageBytes = (await Promise.all(forwarded.map((bytes) => downscaledCopy(new Uint8Array(bytes))))).reduce((total, page) => total + page.length, 0);
  const originalBytes = forwarded.reduce((total, bytes) => total + bytes.length, 0);
  t.diagnostic(`six forwarded captures: crops ${cropBytes} bytes, downscaled pages ${pageBytes}, originals ${originalBytes}`);

  const rows = storedRecords(data);
  assert.equal(rows.length, 6, 'one record per forwarded capture, none twice');
  assert.equal(new Set(rows.map((row) => row.image_sha256)).size, 6);
  const fileOf = new Map(decided('recorded').map((line) => [line.result.id, line.file as string]));
  assert.deepEqual(new Set(fileOf.keys()), new Set(rows.map((row) => row.id)), 'the agent heard of every record, and of no other');
  for (const row of rows) {
    const { edge } = JSON.parse(row.lineage);
    assert.deepEqual({ policy: edge.policy, client: edge.client, device: edge.device, sent: edge.sent }, { policy: 'hybrid', client: 'agent', device: ['gate', 'duplicates', 'detection'], sent: 'crops' });
    // page-0-again.jpg is taken before page-0.jpg (names in order), which is then the repeat dropped.
    const file = fileOf.get(row.id)!;
    const page = Number(/page-(\d)/.exec(file)![1]);
    const error = characterErrorRate(printed[page].join('\n'), JSON.parse(row.result).text);
    assert.ok(error < 0.05, `${file} is read from its crops (CER ${error.toFixed(3)})`);
  }
});

test('under device the agent reads the text on the device, a page upside down too, and the cloud records that reading without recognising again', async (t) => {
  const watch = join(work, 'device-captures');
  const data = join(work, 'device-cloud');
  mkdirSync(watch);
  const printed = [0, 1].map((seed) => randomLines(300 + seed, 6));
  const pages = await Promise.all(printed.map((lines) => renderDocument({ lines, fontSize: 28, width: 1400 })));
  writeFileSync(join(watch, 'page-0.jpg'), await asJpeg(pages[0], 92));
  // Fed into the scanner the wrong way round: the device's 0/180 vote turns it before reading.
  writeFileSync(join(watch, 'page-1-upside-down.jpg'), await asJpeg(await sharp(pages[1]).rotate(180).toBuffer(), 92));

  const port = await freePort();
  const server = await startCloud(data, port);
  const agent = startAgent(['--cloud', `http://127.0.0.1:${port}`, '--watch', watch, '--policy', 'device', '--once', '--set', 'edge.backoff.baseMs=50', '--set', 'edge.backoff.maxMs=200']);
  const { code, stderr } = await agent.exited;
  server.kill('SIGKILL');
  await new Promise((done) => server.once('exit', done));
  assert.equal(code, 0, stderr);

  const queued = agent.lines.filter((line) => line.result?.outcome === 'queued');
  assert.equal(queued.length, 2);
  for (const line of queued) {
    const page = Number(/page-(\d)/.exec(line.file)![1]);
    const error = characterErrorRate(printed[page].join('\n'), line.result.read.join('\n'));
    t.diagnostic(`${line.file} read on the device (CER ${error.toFixed(3)}), ${line.result.crops} crops, ${line.result.sentBytes} bytes`);
    assert.equal(line.result.sent, 'crops');
    assert.ok(error < 0.05, `${line.file}: the agent shows the text it read (CER ${error.toFixed(3)})`);
  }
  const rows = storedRecords(data);
  assert.equal(rows.length, 2, 'one record per capture');
  for (const row of rows) {
    const lineage = JSON.parse(row.lineage);
    const { edge } = lineage;
    assert.deepEqual(
      { policy: edge.policy, client: edge.client, device: edge.device, sent: edge.sent },
      { policy: 'device', client: 'agent', device: ['gate', 'duplicates', 'orientation', 'detection', 'recognition'], sent: 'crops' },
    );
    assert.deepEqual(edge.models.map((model: { role: string }) => model.role), ['detection', 'orientation', 'recognition'], 'the models the agent ran, as the server names them');
    assert.deepEqual(lineage.models, [], 'the cloud recognised nothing again');
    const text = JSON.parse(row.result).text;
    const page = printed.findIndex((lines) => characterErrorRate(lines.join('\n'), text) < 0.05);
    assert.ok(page >= 0, `the record holds the device's reading of one of the pages: ${JSON.stringify(text)}`);
  }
});
