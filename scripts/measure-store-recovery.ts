/**
 * Measures how the PostgreSQL stores behave when the database goes away and comes back, with the
 * default `data.postgres` settings, and prints the figures docs/operations.md quotes. The stores
 * reach the test PostgreSQL (test/fixtures/postgres.ts) through a TCP proxy
 * (test/helpers/tcp-proxy.ts); each run cuts every connection and leaves new ones unanswered for
 * 1.5 s, pings twice while it is down (the first finds a pooled connection already broken, the
 * second must open a new one and meets silence), restores, and pings every 50 ms until one answers.
 *
 *   node --import tsx scripts/measure-store-recovery.ts            # 5 runs
 *   node --import tsx scripts/measure-store-recovery.ts --runs 20
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openPostgresStores } from '../src/store/postgres/index.js';
import { freshSchema, TEST_POSTGRES } from '../test/fixtures/postgres.js';
import { record } from '../test/fixtures/records.js';
import { TcpProxy } from '../test/helpers/tcp-proxy.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const schema = await freshSchema();
const server = new URL(TEST_POSTGRES);
const proxy = new TcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
const url = new URL(schema.url);
url.port = String(await proxy.start());
const stores = openPostgresStores({ url: url.toString() });

async function timed(work: () => Promise<unknown>): Promise<{ outcome: string; ms: number }> {
  const start = performance.now();
  const outcome = await work().then(
    () => 'ok',
    (error: { code?: string }) => error.code ?? 'error',
  );
  return { outcome, ms: performance.now() - start };
}

try {
  await stores.predictions.save(record('accept'));
  for (let run = 1; run <= Number(values.runs); run++) {
    proxy.cut();
    const first = await timed(() => stores.predictions.ping());
    const second = await timed(() => stores.predictions.ping());
    await new Promise((resolve) => setTimeout(resolve, 1500));
    proxy.restore();
    const back = await timed(async () => {
      for (;;) {
        try {
          return await stores.predictions.ping();
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });
    console.log(
      `run ${run}: down: ping ${first.outcome} in ${first.ms.toFixed(0)} ms, again ${second.outcome} in ${second.ms.toFixed(0)} ms; ` +
        `back: serving ${back.ms.toFixed(0)} ms after the restore`,
    );
  }
} finally {
  await stores.close();
  await proxy.stop();
  await schema.drop();
}
