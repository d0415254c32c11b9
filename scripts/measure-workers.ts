/**
 * Throughput of `visionops worker` processes, measured from outside as an operator would see it:
 * one API process and N worker processes started from the sources against the machine's
 * PostgreSQL and Redis (a schema and a key prefix of their own), a warm-up job of a few pages,
 * then a job of `--pages` document pages (3 to 10 lines, 1100 px wide JPEGs, bench/lib.ts), timed
 * from the POST to the job's completion. Answer cache off, so every page runs the models. Each
 * worker keeps its defaults (queue.worker.concurrency 2, runtime.workers 2) unless `--set` says
 * otherwise. Prints one JSON line per worker count, and the machine's load average around each run
 * (other processes on the machine take cores from the workers).
 *
 *   node --import tsx scripts/measure-workers.ts --workers 1,2 --pages 60
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { documentPages } from '../bench/lib.js';
import type { JobStatus } from '../src/queue/jobs.js';
import { Cluster, sleep } from '../test/helpers/cluster.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    pages: { type: 'string', default: '60' },
    set: { type: 'string', multiple: true, default: [] },
  },
});
const counts = values.workers.split(',').map(Number);
const pageCount = Math.min(500, Math.max(1, Number(values.pages)));
const pages = await documentPages(pageCount + 4, 7100);

async function submit(url: string, images: Buffer[]): Promise<string> {
  const form = new FormData();
  images.forEach((image, i) => form.append('image', new Blob([new Uint8Array(image)], { type: 'image/jpeg' }), `page-${i}.jpg`));
  const response = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
  if (response.status !== 202) throw new Error(`job refused: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

async function finished(url: string, id: string): Promise<JobStatus> {
  for (;;) {
    const status = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as JobStatus;
    if (status.state === 'completed' || status.state === 'failed') return status;
    await sleep(100);
  }
}

const overrides: Record<string, unknown> = { cache: { enabled: false }, monitor: { gpu: { enabled: false } } };
for (const set of values.set) {
  const [path, value] = set.split('=');
  const keys = path.split('.');
  let node = overrides;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1) as string] = JSON.parse(value);
}

for (const count of counts) {
  const cluster = await Cluster.create(overrides);
  try {
    const [api] = await Promise.all([cluster.api(), ...Array.from({ length: count }, () => cluster.worker())]);
    await finished(api.url, await submit(api.url, pages.slice(0, 4).map((page) => page.bytes)));
    const loadBefore = loadavg()[0];
    const started = performance.now();
    const status = await finished(api.url, await submit(api.url, pages.slice(4).map((page) => page.bytes)));
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${JSON.stringify({ workers: count, pages: pageCount, state: status.state, seconds: Number(seconds.toFixed(1)), pagesPerSecond: Number((status.done / seconds).toFixed(2)), load1Before: loadBefore, load1After: loadavg()[0] })}\n`,
    );
  } finally {
    await cluster.close();
  }
}
