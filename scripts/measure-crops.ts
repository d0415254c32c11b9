/**
 * What each routing policy sends for a capture, in bytes, and what the cloud reads from it: the
 * original, the downscaled page (`downscaledCopy`, 1600 px, JPEG q85) and the text regions
 * (`findTextRegions` at the device's 640 px, `cutRegions`, `regionsPayload`: JPEG q85 crops at
 * most 40 px high in one multipart body). Both uploads are read by a server with the built-in
 * models (`POST /v1/predict` and `POST /v1/predict/regions`) and scored against the printed text.
 * The pages are generated (test/fixtures/documents.ts). docs/edge.md has the table.
 *
 *   nice node --import tsx scripts/measure-crops.ts [--limit N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createVisionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { REGIONS_PATH } from '../src/core/edge/regions.js';
import { downscaledCopy } from '../src/edge/agent.js';
import { loadNodeTextDetector, regionsPayload } from '../src/edge/regions.js';
import { characterErrorRate } from '../test/fixtures/documents.js';
import { captures } from './edge-captures.js';

const limitAt = process.argv.indexOf('--limit');
const limit = limitAt === -1 ? Infinity : Number(process.argv[limitAt + 1]);
const work = mkdtempSync(join(tmpdir(), 'visionops-measure-crops-'));
const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(work, 'data'))}`, 'cache.enabled=false'] });
const visionops = await createVisionops(config, { overrides: { lab: [] } });
const app = await visionops.server();
const detector = await loadNodeTextDetector(config.runtime);
try {
  console.log('| capture | original | downscaled page | crops | crops / page | CER page | CER crops | decision page / crops |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [index, capture] of (await captures()).slice(0, limit).entries()) {
    const downscaled = await downscaledCopy(new Uint8Array(capture.original));
    const { data, info } = await sharp(capture.original).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const frame = { width: info.width, height: info.height, channels: 3 as const, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    const crops = await regionsPayload(frame, await detector.find(frame), `measure-${index}`);
    const asPage = (await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/jpeg' }, payload: Buffer.from(downscaled) })).json();
    const asCrops = (await app.inject({ method: 'POST', url: REGIONS_PATH, headers: { 'content-type': crops.contentType }, payload: Buffer.from(crops.body) })).json();
    const cer = (answer: { result?: { text: string } | null; error?: { code: string } }) => (answer.result ? characterErrorRate(capture.lines.join('\n'), answer.result.text).toFixed(3) : (answer.error?.code ?? 'no result'));
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
    console.log(`| ${capture.name} | ${kb(capture.original.length)} | ${kb(downscaled.length)} | ${kb(crops.body.length)} (${crops.crops} crops) | ${(crops.body.length / downscaled.length).toFixed(2)}x | ${cer(asPage)} | ${cer(asCrops)} | ${asPage.decision} / ${asCrops.decision} |`);
  }
} finally {
  await detector.close();
  await visionops.close();
  rmSync(work, { recursive: true, force: true });
}
