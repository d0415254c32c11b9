import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lineageChain } from '../src/registry/lineage.js';
import { changeStage, registerVersion, rollback } from '../src/registry/registry.js';
import { openPostgresStores } from '../src/store/postgres/index.js';
import type { SqlStores } from '../src/store/sql/stores.js';
import { openSqliteStores } from '../src/store/sqlite/index.js';
import { freshSchema } from './fixtures/postgres.js';
import { record as aRecord } from './fixtures/records.js';
import { STUB_REC, stubVersion } from './helpers/versioned-pipelines.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-lifecycle-registry-'));
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const adapters: [string, () => Promise<SqlStores>][] = [
  ['SQLite', async () => openSqliteStores(join(dir, 'visionops.db'))],
  [
    'PostgreSQL',
    async () => {
      const schema = await freshSchema();
      cleanups.push(schema.drop);
      return openPostgresStores({ url: schema.url, poolSize: 2, connectTimeoutMs: 5000, statementTimeoutMs: 30_000, idleInTransactionTimeoutMs: 60_000, keepAliveDelayMs: 10_000, pingTimeoutMs: 1000 });
    },
  ],
];

for (const [name, open] of adapters) {
  test(`${name}: versions, one production, rollback, runs and the lineage chain back to the reviews`, async () => {
    const stores = await open();
    try {
      const models = stores.models;
      await registerVersion(models, stubVersion('1'));
      await changeStage(models, { model: STUB_REC, version: '1', stage: 'production', by: 'test' });
      const dataset = { id: 'd'.repeat(64), createdAt: new Date().toISOString(), format: 'jsonl', predictions: [] as string[], modelVersions: [`${STUB_REC}@1`] };
      await registerVersion(models, { ...stubVersion('2', '1'), dataset: dataset.id });
      await assert.rejects(registerVersion(models, { ...stubVersion('2', '1'), manifest: { ...stubVersion('2', '1').manifest, sha256: 'e'.repeat(64) } }), { code: 'MODEL_VERSION_EXISTS' });
      const wrong = stubVersion('4', '1');
      await assert.rejects(registerVersion(models, { ...wrong, signature: { inputs: wrong.signature!.inputs, outputs: [{ name: 'y', shape: ['batch', 'steps', 11] }] } }), { code: 'MODEL_SIGNATURE_MISMATCH' });
      await assert.rejects(registerVersion(models, stubVersion('5', '9')), { code: 'MODEL_VERSION_NOT_FOUND' });

      await changeStage(models, { model: STUB_REC, version: '2', stage: 'production', by: 'test' });
      assert.deepEqual((await models.assignments(STUB_REC)).map((a) => [a.version, a.stage]), [['2', 'production']]);
      assert.deepEqual(await rollback(models, STUB_REC, 'test'), { production: '1', previous: '2', canaryOff: null });
      assert.deepEqual((await models.assignments(STUB_REC)).map((a) => [a.version, a.stage]), [['1', 'production']]);
      // A stage change is one transaction: when its last statement (the event, here without its reason) fails, the slot keeps its production.
      const broken = { model: STUB_REC, version: '2', stage: 'production' as const, weight: null, since: new Date().toISOString(), by: 'test', reason: null as unknown as string };
      await assert.rejects(models.setStages([broken]));
      assert.deepEqual((await models.assignments(STUB_REC)).map((a) => [a.version, a.stage]), [['1', 'production']]);
      // A rollback's changes are one transaction too: the canary switched off first comes back when the promotion after it fails.
      await changeStage(models, { model: STUB_REC, version: '2', stage: 'canary', weight: 0.2, by: 'test' });
      const canaryOff = { ...broken, stage: 'off' as const, reason: 'rollback' };
      await assert.rejects(models.setStages([canaryOff, { ...broken, version: '1' }]));
      assert.deepEqual((await models.assignments(STUB_REC)).map((a) => [a.version, a.stage]).sort(), [['1', 'production'], ['2', 'canary']]);
      // Two promotions of one slot at once leave one production.
      await registerVersion(models, stubVersion('3', '1'));
      await Promise.all(['2', '3'].map((version) => changeStage(models, { model: STUB_REC, version, stage: 'production', by: 'test' })));
      assert.equal((await models.assignments(STUB_REC)).filter((a) => a.stage === 'production').length, 1);

      // A prediction read by version 2, reviewed; the dataset exported from that review made version 2.
      const reviewed = aRecord('review');
      await stores.predictions.save(reviewed);
      const task = await stores.reviews.create({ predictionId: reviewed.id, kind: 'review', modelVersion: `${STUB_REC}@1`, blob: 'b'.repeat(64), modelOutput: { width: 10, height: 10, lines: [] } as never });
      await models.saveDataset({ ...dataset, predictions: [reviewed.id] });
      const read = aRecord('accept');
      read.lineage.models = [{ role: 'recognition', stage: 'recognition', id: STUB_REC, version: '2', sha256: '2'.repeat(64), preprocessHash: '0'.repeat(64), lifecycle: 'canary' }];
      await stores.predictions.save(read);
      await models.recordRuns([{ model: STUB_REC, version: '2', stage: 'canary', at: read.createdAt, predictionId: read.id, decision: 'accept', failed: false, latencyMs: 12, agreement: null }]);
      const tally = await models.runTally(STUB_REC, '2', 'canary', '2000-01-01T00:00:00.000Z');
      assert.equal(tally.runs, 1);
      assert.equal(tally.accept, 1);

      const chain = await lineageChain(stores.predictions, models, read.id);
      assert.equal(chain.models[0].ran.lifecycle, 'canary');
      assert.deepEqual(chain.models[0].versions.map((v) => v.version), ['2', '1']);
      assert.equal(chain.models[0].versions[0].datasetEntry?.id, dataset.id);
      assert.deepEqual(chain.models[0].versions[0].datasetEntry?.reviews.map((r) => r.taskId), [task.id]);
    } finally {
      await stores.close();
    }
  });
}
