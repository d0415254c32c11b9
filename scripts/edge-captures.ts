/**
 * The generated captures the edge measurements share (scripts/measure-crops.ts,
 * scripts/measure-device-reading.ts): pages and camera frames of known text, as JPEG files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { createVisionops, type Visionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { randomLines, renderDocument, withGrain } from '../test/fixtures/documents.js';

export interface Capture {
  name: string;
  lines: string[];
  /** The file a camera or scanner made. */
  original: Buffer;
}

/** A page of `lines` on a desk: the page `pageWidth` px wide, placed in a `width` x `height` frame with a grainy grey surround. */
async function onDesk(lines: string[], fontSize: number, pageWidth: number, width: number, height: number, grain: number, seed: number): Promise<Buffer> {
  const page = await renderDocument({ lines, fontSize, width: pageWidth });
  const { height: pageHeight } = await sharp(page).metadata();
  const desk = await sharp({ create: { width, height, channels: 3, background: { r: 120, g: 110, b: 100 } } })
    .composite([{ input: page, left: Math.round((width - pageWidth) / 2), top: Math.max(0, Math.round((height - pageHeight!) / 2)) }])
    .png()
    .toBuffer();
  return grain > 0 ? withGrain(desk, grain, seed) : desk;
}

export async function captures(): Promise<Capture[]> {
  const dense = randomLines(81, 30);
  const short = randomLines(82, 10);
  const receipt = randomLines(83, 18);
  const jpeg = (png: Buffer, quality: number) => sharp(png).jpeg({ quality }).toBuffer();
  return [
    { name: '4032 x 3024 page, 30 lines, clean (the bench edge page)', lines: dense, original: await jpeg(await sharp(await renderDocument({ lines: dense, fontSize: 64, width: 4032 })).resize(4032, 3024, { fit: 'contain', background: '#fff' }).png().toBuffer(), 92) },
    { name: '4032 x 3024 photo: 10 lines on a desk, sensor grain', lines: short, original: await jpeg(await onDesk(short, 80, 2600, 4032, 3024, 12, 1), 92) },
    { name: '1920 x 1080 camera frame: 18 lines on a desk, sensor grain', lines: receipt, original: await jpeg(await onDesk(receipt, 28, 1100, 1920, 1080, 12, 2), 90) },
    { name: '640 x 480 camera frame: the capture test page, clean', lines: randomLines(71, 7), original: await jpeg(await sharp(await renderDocument({ lines: randomLines(71, 7), fontSize: 24, width: 760 })).resize(640, 480, { fit: 'contain', background: '#fff' }).png().toBuffer(), 90) },
  ];
}

/** `--limit N` from the command line: how many captures to measure (all without it). */
export function captureLimit(): number {
  const at = process.argv.indexOf('--limit');
  return at === -1 ? Infinity : Number(process.argv[at + 1]);
}

/** A server with the built-in models over a throwaway data folder (no cache, silent), for a measurement; `close` removes the folder. */
export async function measuringServer(name: string): Promise<{ work: string; config: Config; visionops: Visionops; app: FastifyInstance; close: () => Promise<void> }> {
  const work = mkdtempSync(join(tmpdir(), `visionops-${name}-`));
  const config = loadConfig({ sets: ['server.logLevel="silent"', `data.dir=${JSON.stringify(join(work, 'data'))}`, 'cache.enabled=false'] });
  const visionops = await createVisionops(config, { overrides: { lab: [] } });
  const app = await visionops.server();
  return {
    work,
    config,
    visionops,
    app,
    close: async () => {
      await visionops.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
