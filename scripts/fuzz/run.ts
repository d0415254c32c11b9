import { isVisionopsError } from '../../src/core/errors.js';
import { seededRandom } from '../../src/core/monitor/random.js';
import { qualityConfigSchema, type QualityConfig } from '../../src/core/quality/config.js';
import { runQualityGate } from '../../src/core/quality/gate.js';
import { ingestConfigSchema, type IngestConfig } from '../../src/image/config.js';
import { ingestImage } from '../../src/image/ingest.js';
import { sniffFormat } from '../../src/image/sniff.js';
import type { ImageFormat } from '../../src/image/types.js';
import { HTTP_STATUS } from '../../src/server/http-errors.js';
import { MUTATIONS, mutate, pick, type Mutation } from './mutate.js';
import type { Seed } from './seeds.js';

/** An input over this is a hang, the same bound the HTTP API is judged by. */
export const HANG_MS = 2000;
/** Some inputs are the seeds as they are, so the harness also sees every seed accepted. */
const UNMUTATED_SHARE = 0.02;

export interface FuzzInput {
  index: number;
  seed: string;
  mutations: Mutation[];
  bytes: Uint8Array;
}

export interface Finding {
  index: number;
  seed: string;
  mutations: Mutation[];
  detail: string;
}

export interface FuzzReport {
  inputs: number;
  accepted: number;
  /** Coded refusals by error code. */
  refusals: Record<string, number>;
  /** Anything thrown that is not a VisionopsError. */
  crashes: Finding[];
  /**
   * Inputs that took over HANG_MS: the harness stops waiting at that bound, and one that ended
   * later (the gate's work is synchronous, so a timer cannot cut in) counts too.
   */
  hangs: Finding[];
  /** Coded refusals whose HTTP status is not 4xx: a hostile file must never look like the server's fault. */
  notClientErrors: Finding[];
  /** The five slowest inputs, slowest first, as findings whose detail is the time taken. */
  slowest: (Finding & { ms: number })[];
}

export interface FuzzOptions {
  count: number;
  seed: number;
  /** Index of the first input: a finding is replayed with its index and count 1. */
  start?: number;
  ingest?: IngestConfig;
  quality?: QualityConfig;
  onInput?: (input: FuzzInput, outcome: string) => void;
  /** Asked before each input: true ends the run there, with the report of what ran. */
  stopped?: () => boolean;
}

/**
 * Input `index` of a run depends on the run's seed and its index only, so any finding is
 * reproduced alone (`--start index --count 1`), whatever ran before it.
 */
export function makeInput(seeds: readonly Seed[], runSeed: number, index: number): FuzzInput {
  const random = seededRandom((Math.imul(runSeed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0);
  const seed = pick(random, seeds);
  const format = sniffFormat(seed.bytes) as ImageFormat;
  if (random() < UNMUTATED_SHARE) return { index, seed: seed.name, mutations: [], bytes: seed.bytes };
  const mutations = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(random, MUTATIONS));
  let bytes: Uint8Array = seed.bytes;
  for (const mutation of mutations) bytes = mutate(bytes, format, mutation, random);
  return { index, seed: seed.name, mutations, bytes };
}

/** Ingest and the quality gate, as `visionops check` and the HTTP API run them. */
async function checkInput(bytes: Uint8Array, ingest: IngestConfig, quality: QualityConfig): Promise<void> {
  const image = await ingestImage(bytes, ingest);
  runQualityGate(image.frame, quality, image.luma);
}

type Outcome = { kind: 'accepted' } | { kind: 'refused'; code: string } | { kind: 'crash'; detail: string } | { kind: 'hang' };

async function outcomeOf(bytes: Uint8Array, ingest: IngestConfig, quality: QualityConfig): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'hang' }), HANG_MS)));
  const work = checkInput(bytes, ingest, quality).then(
    (): Outcome => ({ kind: 'accepted' }),
    (error: unknown): Outcome =>
      isVisionopsError(error)
        ? { kind: 'refused', code: error.code }
        : { kind: 'crash', detail: error instanceof Error ? (error.stack ?? error.message) : String(error) },
  );
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runFuzz(seeds: readonly Seed[], options: FuzzOptions): Promise<FuzzReport> {
  const ingest = options.ingest ?? ingestConfigSchema.parse({});
  const quality = options.quality ?? qualityConfigSchema.parse({});
  const report: FuzzReport = { inputs: 0, accepted: 0, refusals: {}, crashes: [], hangs: [], notClientErrors: [], slowest: [] };
  const start = options.start ?? 0;
  for (let index = start; index < start + options.count && !options.stopped?.(); index++) {
    const input = makeInput(seeds, options.seed, index);
    const began = performance.now();
    const settled = await outcomeOf(input.bytes, ingest, quality);
    const ms = performance.now() - began;
    const outcome: Outcome = ms > HANG_MS ? { kind: 'hang' } : settled;
    report.inputs++;
    const finding = (detail: string): Finding => ({ index, seed: input.seed, mutations: input.mutations, detail });
    noteSlowest(report.slowest, { ...finding(`${Math.round(ms)} ms, ${settled.kind === 'refused' ? settled.code : settled.kind}`), ms });
    if (outcome.kind === 'accepted') report.accepted++;
    else if (outcome.kind === 'hang') report.hangs.push(finding(`no answer within ${HANG_MS} ms (${settled.kind === 'hang' ? 'still running' : `${Math.round(ms)} ms`})`));
    else if (outcome.kind === 'crash') report.crashes.push(finding(outcome.detail));
    else {
      report.refusals[outcome.code] = (report.refusals[outcome.code] ?? 0) + 1;
      const status = HTTP_STATUS[outcome.code as keyof typeof HTTP_STATUS];
      if (!(status >= 400 && status < 500)) report.notClientErrors.push(finding(`${outcome.code} is HTTP ${status}`));
    }
    options.onInput?.(input, outcome.kind === 'refused' ? outcome.code : outcome.kind);
  }
  return report;
}

function noteSlowest(slowest: (Finding & { ms: number })[], entry: Finding & { ms: number }): void {
  if (slowest.length === 5 && entry.ms <= slowest[4].ms) return;
  slowest.push(entry);
  slowest.sort((a, b) => b.ms - a.ms);
  slowest.length = Math.min(slowest.length, 5);
}
