import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { ResultCache, type CachedAnswer } from '../src/pipeline/cache.js';
import { openSharedAnswers } from '../src/pipeline/shared-answers.js';
import { loadDocumentPipeline, type DocumentPipeline } from '../src/pipeline/document.js';
import { createPredictionService, type PredictionService } from '../src/pipeline/service.js';
import { openStores, type Stores } from '../src/store/open.js';
import { asJpeg, renderDocument } from './fixtures/documents.js';
import { documentOf } from './helpers/results.js';

function answer(id: string, phash = '0000000000000000', padding = 0): CachedAnswer {
  return {
    id,
    image: { sha256: id, phash, format: 'png', width: 1, height: 1, bytes: 1 },
    quality: { verdict: 'pass', checks: [], guidance: [] } as unknown as CachedAnswer['quality'],
    decision: 'accept',
    reasons: [],
    result: { text: 'x'.repeat(padding), lines: [], orientation: { rotation: 0, source: 'none' } },
    lineage: { pipeline: { id: 'document', version: '1' }, models: [], image: { sha256: id, phash }, configHash: 'c' },
    exif: null,
  };
}

test('the exact cache answers by scope and SHA-256 only', () => {
  const cache = new ResultCache(1 << 20);
  cache.put('scope-a', 'sha-1', answer('r1'));
  assert.equal(cache.exact('scope-a', 'sha-1')?.answer.id, 'r1');
  assert.equal(cache.exact('scope-a', 'sha-1')?.kind, 'exact');
  assert.equal(cache.exact('scope-b', 'sha-1'), undefined, 'another pipeline version or settings: a miss');
  assert.equal(cache.exact('scope-a', 'sha-2'), undefined);
});

test('the cache stays within its bytes, dropping the least recently used first', () => {
  const one = new ResultCache(1 << 20);
  one.put('s', 'probe', answer('probe', undefined, 1000));
  const entryBytes = one.bytes;
  const cache = new ResultCache(entryBytes * 3);
  cache.put('s', 'a', answer('a', undefined, 1000));
  cache.put('s', 'b', answer('b', undefined, 1000));
  cache.put('s', 'c', answer('c', undefined, 1000));
  assert.ok(cache.exact('s', 'a'), 'a is used again, so b is now the oldest');
  cache.put('s', 'd', answer('d', undefined, 1000));
  assert.equal(cache.size, 3);
  assert.ok(cache.bytes <= entryBytes * 3);
  assert.equal(cache.exact('s', 'b'), undefined);
  for (const key of ['a', 'c', 'd']) assert.ok(cache.exact('s', key), key);
});

test('an answer larger than the whole cache is not kept', () => {
  const cache = new ResultCache(100);
  cache.put('s', 'big', answer('big', undefined, 1000));
  assert.equal(cache.size, 0);
  assert.equal(cache.bytes, 0);
});

test('the near-duplicate lookup takes the closest hash within the distance, in the same scope', () => {
  const cache = new ResultCache(1 << 20);
  cache.put('s', 'a', answer('a', '00000000000000ff'));
  cache.put('s', 'b', answer('b', '0000000000000007'));
  cache.put('t', 'c', answer('c', '0000000000000001'));
  const hit = cache.near('s', '0000000000000001', 4);
  assert.equal(hit?.answer.id, 'b');
  assert.equal(hit?.kind, 'near');
  assert.equal(hit?.distance, 2);
  assert.equal(cache.near('s', 'ffffffff00000000', 4), undefined);
});

const dir = mkdtempSync(join(tmpdir(), 'visionops-cache-'));
let pipeline: DocumentPipeline;
let stores: Stores;
let page: Buffer;

function serviceWith(sets: string[]): { service: PredictionService; config: Config } {
  const config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`, ...sets] });
  return { config, service: createPredictionService({ config, pipeline, store: stores.predictions, blobs: stores.blobs }) };
}

before(async () => {
  const config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`] });
  pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
  stores = openStores(config.data);
  page = await renderDocument({ lines: ['Invoice 20417 paid', 'Total amount: 1250.40'], width: 900 });
});

after(async () => {
  await pipeline.close();
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the same bytes again are answered from the cache, recorded as a new record that names the original', async () => {
  const { service } = serviceWith([]);
  const first = await service.predict(page, { channel: 'test', n: 1 });
  const second = await service.predict(page, { channel: 'test', n: 2 });
  assert.equal(first.lineage.cache, undefined);
  assert.deepEqual(second.lineage.cache, { hit: 'exact', of: first.id, distance: 0 });
  assert.notEqual(second.id, first.id);
  assert.equal(documentOf(second.result).text, documentOf(first.result).text);
  assert.equal(second.decision, first.decision);
  assert.deepEqual(second.source, { channel: 'test', n: 2, exif: first.source.exif });
  assert.equal(second.timings.detection, undefined, 'no model ran');
  const saved = await stores.predictions.get(second.id);
  assert.deepEqual(saved?.lineage.cache, second.lineage.cache);
});

test('other settings make another scope: the same bytes are computed again', async () => {
  const { service } = serviceWith(['pipeline.recognition.dropScore=0.4']);
  const record = await service.predict(page, { channel: 'test' });
  assert.equal(record.lineage.cache, undefined);
});

test('a re-encoded copy is a near hit only when the near-duplicate cache is on', async () => {
  const copy = await asJpeg(page, 85);
  const off = serviceWith([]).service;
  await off.predict(page, {});
  assert.equal((await off.predict(copy, {})).lineage.cache, undefined);

  const on = serviceWith(['cache.nearDuplicate.enabled=true']).service;
  const original = await on.predict(page, {});
  const near = await on.predict(copy, {});
  assert.equal(near.lineage.cache?.hit, 'near');
  assert.equal(near.lineage.cache?.of, original.id);
  assert.equal(near.image.format, 'jpeg', 'the record describes the image that was sent');
  assert.equal(documentOf(near.result).text, documentOf(original.result).text);
});

test('with the cache off every image is computed', async () => {
  const { service } = serviceWith(['cache.enabled=false']);
  await service.predict(page, {});
  assert.equal((await service.predict(page, {})).lineage.cache, undefined);
});

/** A key prefix of its own per run, so runs sharing the machine's Redis never see each other's answers. */
const redisPrefix = `visionops-test:${process.pid}:${Date.now()}:`;
const TEST_REDIS = process.env.VISIONOPS_TEST_REDIS ?? 'redis://127.0.0.1:6379';

function sharedServiceWith(url: string, onError: (error: Error, failures: number) => void = () => assert.fail('the shared cache failed')) {
  const config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`, `cache.redis.url=${JSON.stringify(url)}`, `cache.redis.keyPrefix=${JSON.stringify(redisPrefix)}`] });
  const shared = openSharedAnswers(config.cache, onError);
  assert.ok(shared);
  // Each service has a memory cache of its own, as two processes would.
  return { shared, service: createPredictionService({ config, pipeline, store: stores.predictions, blobs: stores.blobs, shared }) };
}

test('processes sharing a Redis answer each other’s images: the second never runs a model', async () => {
  const first = sharedServiceWith(TEST_REDIS);
  const second = sharedServiceWith(TEST_REDIS);
  try {
    const bytes = await renderDocument({ lines: ['Shared through Redis', 'Order 88-2031'], width: 900 });
    const computed = await first.service.predict(bytes, { worker: 1 });
    assert.equal(computed.lineage.cache, undefined);
    const repeated = await second.service.predict(bytes, { worker: 2 });
    assert.deepEqual(repeated.lineage.cache, { hit: 'exact', of: computed.id, distance: 0 });
    assert.equal(documentOf(repeated.result).text, documentOf(computed.result).text);
    assert.equal(repeated.timings.detection, undefined, 'no model ran in the second process');
  } finally {
    await Promise.all([first.shared.close(), second.shared.close()]);
  }
});

test('a Redis that does not answer costs speed, not answers: images are computed and the failure is told', async () => {
  const failures: number[] = [];
  const { shared, service } = sharedServiceWith('redis://127.0.0.1:1', (_error, count) => failures.push(count));
  try {
    const record = await service.predict(page, { channel: 'no-redis' });
    assert.equal(record.decision, 'accept');
    assert.ok(documentOf(record.result).text.includes('Invoice 20417'));
    assert.equal(failures.length, 1, 'told once, not per failure');
  } finally {
    await shared.close();
  }
});
