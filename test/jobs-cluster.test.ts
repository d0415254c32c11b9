import assert from 'node:assert/strict';
import test from 'node:test';
import pg from 'pg';
import type { JobStatus } from '../src/queue/jobs.js';
import { renderDocument } from './fixtures/documents.js';
import { Cluster, sleep } from './helpers/cluster.js';

const IMAGES = 200;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, seconds: number, what: string): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${seconds} s; last: ${JSON.stringify(value)}`);
    await sleep(200);
  }
}

test('a job of 200 images on three workers, one killed with SIGKILL mid-job and another started: exactly one record per image, and the job completes', { timeout: 300_000 }, async () => {
  // A short lock, so the images the killed worker held go back to the queue within seconds.
  const cluster = await Cluster.create({ runtime: { workers: 1 }, queue: { worker: { lockSeconds: 4, stalledCheckSeconds: 2, shutdownSeconds: 20 } } });
  try {
    const [api, ...workers] = await Promise.all([cluster.api(), cluster.worker('--concurrency', '2'), cluster.worker('--concurrency', '2'), cluster.worker('--concurrency', '2')]);
    // Small pages, each a different line of print the gate passes, so the models read every one.
    const pages = await Promise.all(Array.from({ length: IMAGES }, (_, i) => renderDocument({ lines: [`Parcel ${10_000 + i} shipped`], width: 360, fontSize: 24 })));
    const form = new FormData();
    pages.forEach((page, i) => form.append('image', new Blob([new Uint8Array(page)], { type: 'image/png' }), `parcel-${i}.png`));
    const submitted = await fetch(`${api.url}/v1/jobs`, { method: 'POST', body: form });
    assert.equal(submitted.status, 202, await submitted.clone().text());
    const { id } = (await submitted.json()) as { id: string };
    const status = async () => (await (await fetch(`${api.url}/v1/jobs/${id}`)).json()) as JobStatus;

    const early = await until(status, (s) => s.done >= 30, 120, '30 images recorded');
    assert.equal(early.state, 'active');
    assert.equal(early.total, IMAGES);
    assert.deepEqual(early.records, [], 'record ids are listed once the job has finished');
    workers[0].child.kill('SIGKILL');
    assert.equal((await workers[0].exited).signal, 'SIGKILL');
    workers.push(await cluster.worker('--concurrency', '2'));

    const final = await until(status, (s) => s.state === 'completed' || s.state === 'failed', 240, 'the job to finish');
    assert.equal(final.state, 'completed', JSON.stringify(final.errors));
    assert.equal(final.done, IMAGES);
    assert.equal(final.failed, 0);
    assert.equal(final.records.length, IMAGES);
    assert.equal(new Set(final.records).size, IMAGES);

    const db = new pg.Client({ connectionString: cluster.postgresUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ records: string; images: string; decisions: string[] }>(
        `SELECT count(*) AS records, count(DISTINCT image_sha256) AS images, array_agg(DISTINCT decision) AS decisions FROM predictions`,
      );
      assert.equal(Number(rows[0].records), IMAGES, 'one record per image, none twice');
      assert.equal(Number(rows[0].images), IMAGES);
      const listed = await db.query<{ id: string }>('SELECT id FROM predictions');
      assert.deepEqual(listed.rows.map((row) => row.id).sort(), [...final.records].sort());
      const read = await db.query<{ text: string }>(`SELECT result->>'text' AS text FROM predictions WHERE source->>'file' = 'parcel-7.png'`);
      assert.match(read.rows[0].text, /10007/, 'the models read the page');
    } finally {
      await db.end();
    }

    // The killed worker held images: another worker's stalled check took them back.
    assert.ok(
      workers.slice(1).some((worker) => worker.output().includes('image taken back from a worker')),
      'an image the killed worker held went back to the queue',
    );

    // SIGTERM: each remaining worker finishes what it holds and exits cleanly.
    for (const worker of workers.slice(1)) worker.child.kill('SIGTERM');
    for (const worker of workers.slice(1)) assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
  } finally {
    await cluster.close();
  }
});
