/**
 * Overload, measured from outside: starts `visionops serve` from the sources as its own process on
 * 127.0.0.1 (answer cache off, so every request runs the models; rate limit off, so only the
 * admission queue sheds), then runs N clients posting document pages back to back for T seconds
 * and prints throughput, the latency of admitted predictions (p50, p99), and the 503s.
 * A client refused with 503 waits what Retry-After says (at most 2 s) before trying again, as an
 * HTTP client should; `--ignore-retry-after` retries at once instead.
 *
 *   node --import tsx scripts/measure-overload.ts --clients 1 --seconds 30
 *   node --import tsx scripts/measure-overload.ts --clients 32 --seconds 30 --set server.admission.maxQueued=4
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { documentPages } from '../bench/lib.js';
import { freePort } from '../test/helpers/ports.js';

const MAX_CLIENTS = 64;
const MAX_SECONDS = 120;

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    set: { type: 'string', multiple: true, default: [] },
    'ignore-retry-after': { type: 'boolean', default: false },
  },
});
const clients = Math.min(MAX_CLIENTS, Math.max(1, Number(values.clients)));
const seconds = Math.min(MAX_SECONDS, Math.max(1, Number(values.seconds)));
const warmup = Math.min(30, Math.max(0, Number(values.warmup)));

const port = await freePort();
const dir = await mkdtemp(join(tmpdir(), 'visionops-overload-'));
const repo = fileURLToPath(new URL('..', import.meta.url));
const sets = ['cache.enabled=false', 'server.rateLimit.max=0', 'server.logLevel="warn"', 'monitor.gpu.enabled=false', ...values.set];
const server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--data', dir, ...sets.flatMap((s) => ['--set', s])], {
  cwd: repo,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;

try {
  await ready();
  const pages = (await documentPages(16, 6000)).map((page) => new Uint8Array(page.bytes));
  // Warm the models (first runs allocate) before anything is counted.
  const warmUntil = performance.now() + warmup * 1000;
  while (performance.now() < warmUntil) await post(pages[0]);

  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  let next = 0;
  const until = performance.now() + seconds * 1000;
  const client = async () => {
    while (performance.now() < until) {
      const at = performance.now();
      const response = await post(pages[next++ % pages.length]);
      const ms = performance.now() - at;
      statuses.set(String(response.status), (statuses.get(String(response.status)) ?? 0) + 1);
      if (response.status === 200) latencies.push(ms);
      if (response.status === 503 && !values['ignore-retry-after']) {
        await sleep(Math.min(2, Number(response.retryAfter ?? 1)) * 1000);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const report = {
    clients,
    seconds: Math.round(elapsed * 10) / 10,
    settings: values.set,
    retryAfter: values['ignore-retry-after'] ? 'ignored' : 'honoured (at most 2 s)',
    admitted: latencies.length,
    throughputPerSecond: Math.round((latencies.length / elapsed) * 100) / 100,
    admittedP50Ms: Math.round(quantile(latencies, 0.5)),
    admittedP99Ms: Math.round(quantile(latencies, 0.99)),
    admittedMaxMs: Math.round(latencies.at(-1) ?? NaN),
    statuses: Object.fromEntries(statuses),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('close', resolve));
  await rm(dir, { recursive: true, force: true });
}

async function post(body: Uint8Array): Promise<{ status: number; retryAfter: string | null }> {
  try {
    const response = await fetch(`${base}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body });
    await response.arrayBuffer();
    return { status: response.status, retryAfter: response.headers.get('retry-after') };
  } catch {
    return { status: 0, retryAfter: null };
  }
}

async function ready(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (server.exitCode !== null) throw new Error(`visionops serve exited with ${server.exitCode}`);
    const status = await fetch(`${base}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return;
    await sleep(100);
  }
  throw new Error('visionops serve was not ready within 60 s');
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
