/**
 * RSS before, at the peak of, and after bursts of 40 concurrent uploads declaring 6000 x 6000
 * pixels, through ingest and the quality gate in-process (what the server does before the models):
 * first the hostile probe's file (a 289-byte JPEG with data for 64 x 64), then real 6000 x 6000
 * JPEGs of a page. Each configuration runs in a fresh process, so allocator state does not carry
 * over: libvips' operation cache on or off, glibc's arenas capped, jemalloc preloaded.
 *
 *   node --import tsx scripts/measure-ingest-memory.ts [--budget PIXELS]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { isVisionopsError } from '../src/core/errors.js';
import { qualityConfigSchema } from '../src/core/quality/config.js';
import { runQualityGate } from '../src/core/quality/gate.js';
import { ingestConfigSchema } from '../src/image/config.js';
import { ingestImage } from '../src/image/ingest.js';
import { randomLines, renderDocument } from '../test/fixtures/documents.js';
import { jpegDeclaring } from '../test/fixtures/images.js';

const BURST = 40;
const SIDE = 6000;
const MB = 1024 * 1024;
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

interface Burst {
  peakMb: number;
  afterMb: number;
  outcomes: Record<string, number>;
  seconds: number;
}

interface ChildResult {
  baselineMb: number;
  hostile: Burst;
  valid: Burst;
  settledMb: number;
}

const { values } = parseArgs({
  options: { child: { type: 'boolean', default: false }, cache: { type: 'string', default: 'on' }, budget: { type: 'string' } },
});
const ingest = ingestConfigSchema.parse(values.budget ? { inflightPixels: Number(values.budget) } : {});

if (values.child) {
  process.stdout.write(JSON.stringify(await measure()));
} else {
  const configurations: { name: string; args: string[]; env: Record<string, string> }[] = [
    { name: 'defaults', args: [], env: {} },
    { name: 'libvips cache off', args: ['--cache', 'off'], env: {} },
    { name: 'cache off, MALLOC_ARENA_MAX=2', args: ['--cache', 'off'], env: { MALLOC_ARENA_MAX: '2' } },
  ];
  if (existsSync(JEMALLOC)) configurations.push({ name: 'cache off, jemalloc preloaded', args: ['--cache', 'off'], env: { LD_PRELOAD: JEMALLOC } });
  process.stdout.write(`ingest.inflightPixels ${ingest.inflightPixels.toLocaleString('en-US')}, inflightWaitMs ${ingest.inflightWaitMs}; ${BURST} concurrent uploads of ${SIDE} x ${SIDE}\n\n`);
  process.stdout.write('| configuration | RSS before | hostile: peak growth | valid: peak growth | valid: outcomes | after both, settled |\n| --- | --- | --- | --- | --- | --- |\n');
  for (const configuration of configurations) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', import.meta.filename, '--child', ...configuration.args, ...(values.budget ? ['--budget', values.budget] : [])], {
      env: { ...process.env, ...configuration.env },
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (child.status !== 0) throw new Error(`${configuration.name}: ${child.stderr}`);
    const result = JSON.parse(child.stdout) as ChildResult;
    const growth = (mb: number) => `+${(mb - result.baselineMb).toFixed(0)} MB`;
    const outcomes = Object.entries(result.valid.outcomes)
      .map(([outcome, n]) => `${n} ${outcome}`)
      .join(', ');
    process.stdout.write(
      `| ${configuration.name} | ${result.baselineMb.toFixed(0)} MB | ${growth(result.hostile.peakMb)} | ${growth(result.valid.peakMb)} | ${outcomes} (${result.valid.seconds.toFixed(1)} s) | ${growth(result.settledMb)} |\n`,
    );
  }
}

async function measure(): Promise<ChildResult> {
  if (values.cache === 'off') sharp.cache(false);
  const quality = qualityConfigSchema.parse({});
  const hostile = await jpegDeclaring(SIDE, SIDE);
  const page = await renderDocument({ lines: randomLines(3, 12), width: 1500, fontSize: 36 });
  const valid = await sharp(page).resize(SIDE, SIDE, { fit: 'fill' }).jpeg({ quality: 60 }).toBuffer();
  // Warm up: libvips, the codecs and the gate allocate once, outside the measurement.
  await ingestImage(await sharp(page).jpeg().toBuffer(), ingest);
  const baselineMb = await settledRss();

  const burst = async (bytes: Buffer): Promise<Burst> => {
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const began = performance.now();
    const outcomes: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: BURST }, async () => {
        let outcome = 'accepted';
        try {
          const image = await ingestImage(bytes, ingest);
          runQualityGate(image.frame, quality, image.luma);
        } catch (error) {
          if (!isVisionopsError(error)) throw error;
          outcome = error.code;
        }
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }),
    );
    clearInterval(sampler);
    const seconds = (performance.now() - began) / 1000;
    return { peakMb: Math.max(peak, process.memoryUsage.rss()) / MB, afterMb: process.memoryUsage.rss() / MB, outcomes, seconds };
  };
  const hostileBurst = await burst(hostile);
  const validBurst = await burst(valid);
  return { baselineMb, hostile: hostileBurst, valid: validBurst, settledMb: await settledRss() };
}

/** RSS once the collector has run and timers have had 3 s to return memory. */
async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return process.memoryUsage.rss() / MB;
}
