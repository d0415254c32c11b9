/**
 * What each routing policy sends for a capture, in bytes, and what the cloud reads from it: the
 * original, the downscaled page (`downscaledCopy`, 1600 px, JPEG q85) and the text regions
 * (`findTextRegions` at the device's 640 px, `cutRegions`, `regionsPayload`: JPEG q85 crops at
 * most 40 px high in one multipart body). Both uploads are read by a server with the built-in
 * models (`POST /v1/predict` and `POST /v1/predict/regions`) and scored against the printed text.
 * The pages are generated (test/fixtures/documents.ts). docs/edge.md has the table.
 *
 * With `--agent`, the captures are written to a folder instead and the edge agent takes it under
 * `hybrid` as `visionops edge --once` does (the same EdgeAgent, gate and detector), uploading to
 * this server over HTTP: what it sent for each capture, as what, and how its record reads.
 *
 *   nice node --import tsx scripts/measure-crops.ts [--limit N] [--agent]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { REGIONS_PATH } from '../src/core/edge/regions.js';
import { downscaledCopy, EdgeAgent, runnerGate, type FileOutcome } from '../src/edge/agent.js';
import { FolderOutbox } from '../src/edge/outbox.js';
import { loadNodeTextDetector, regionsPayload } from '../src/edge/regions.js';
import { characterErrorRate } from '../test/fixtures/documents.js';
import { captureLimit, captures, measuringServer, type Capture } from './edge-captures.js';

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const cerOf = (capture: Capture, answer: { result?: { text: string } | null; error?: { code: string } }) => (answer.result ? characterErrorRate(capture.lines.join('\n'), answer.result.text).toFixed(3) : (answer.error?.code ?? 'no result'));

/** Each capture's upload two ways, posted to the server in process. */
async function uploadsCompared(all: Capture[]): Promise<void> {
  console.log('| capture | original | downscaled page | crops | crops / page | CER page | CER crops | decision page / crops |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [index, capture] of all.entries()) {
    const downscaled = await downscaledCopy(new Uint8Array(capture.original));
    const { data, info } = await sharp(capture.original).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const frame = { width: info.width, height: info.height, channels: 3 as const, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    const crops = await regionsPayload(frame, await detector.find(frame), `measure-${index}`);
    const asPage = (await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/jpeg' }, payload: Buffer.from(downscaled) })).json();
    const asCrops = (await app.inject({ method: 'POST', url: REGIONS_PATH, headers: { 'content-type': crops.contentType }, payload: Buffer.from(crops.body) })).json();
    console.log(`| ${capture.name} | ${kb(capture.original.length)} | ${kb(downscaled.length)} | ${kb(crops.body.length)} (${crops.crops} crops) | ${(crops.body.length / downscaled.length).toFixed(2)}x | ${cerOf(capture, asPage)} | ${cerOf(capture, asCrops)} | ${asPage.decision} / ${asCrops.decision} |`);
  }
}

/** The captures as files in a watched folder, taken by the edge agent under `hybrid` and uploaded to this server over HTTP. */
async function throughAgent(all: Capture[]): Promise<void> {
  const watch = join(work, 'watch');
  mkdirSync(watch);
  all.forEach((capture, index) => writeFileSync(join(watch, `capture-${index}.jpg`), capture.original));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const outcomes = new Map<string, FileOutcome[]>();
  const settings = { watch, policy: 'hybrid' as const, cloud: { url, timeoutMs: 600_000 }, backoff: config.edge.backoff, duplicateDistance: config.edge.duplicates.maxDistance, duplicateWindow: config.edge.duplicates.window, settleMs: 0, maxCrops: config.edge.regions.maxCrops };
  const outbox = await new FolderOutbox(join(work, 'outbox')).open();
  const agent = new EdgeAgent(settings, runnerGate(visionops.runner()), detector, null, outbox, ({ file, result }) => outcomes.set(file, [...(outcomes.get(file) ?? []), result]));
  await agent.scan();
  while ((await agent.drain()) > 0) await new Promise((done) => setTimeout(done, 200));
  console.log('| capture | original | sent by the agent | as | its record: CER, decision |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [index, capture] of all.entries()) {
    const [queued, recorded] = outcomes.get(join(watch, `capture-${index}.jpg`)) ?? [];
    if (queued?.outcome !== 'queued' || recorded?.outcome !== 'recorded') {
      console.log(`| ${capture.name} | ${kb(capture.original.length)} | ${JSON.stringify(queued)} | | ${JSON.stringify(recorded)} |`);
      continue;
    }
    const record = (await app.inject({ method: 'GET', url: `/v1/predictions/${recorded.id}` })).json();
    const as = queued.sent === 'crops' ? `${queued.crops} crops` : queued.sent;
    console.log(`| ${capture.name} | ${kb(capture.original.length)} | ${kb(queued.sentBytes)} | ${as} | ${cerOf(capture, record)}, ${recorded.decision} |`);
  }
  const report = await agent.report();
  console.log(`\nthe agent's report: sent ${report.sentBytes} of ${report.originalBytes} bytes (${((100 * report.savedBytes) / report.originalBytes).toFixed(1)}% saved), as ${JSON.stringify(report.sentAs)}`);
}

const { work, config, visionops, app, close } = await measuringServer('measure-crops');
const detector = await loadNodeTextDetector(config.runtime);
try {
  const all = (await captures()).slice(0, captureLimit());
  await (process.argv.includes('--agent') ? throughAgent(all) : uploadsCompared(all));
} finally {
  await detector.close();
  await close();
}
