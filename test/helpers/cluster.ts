import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freshSchema } from '../fixtures/postgres.js';
import { freePort } from './ports.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** The Redis the tests use: the machine's unless VISIONOPS_TEST_REDIS names another; missing, the tests that need it fail. */
export const TEST_REDIS = process.env.VISIONOPS_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/** A `visionops` process started from the sources, with what it printed so far. */
export interface Started {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * API processes and workers of one deployment, as separate processes: one PostgreSQL schema, one
 * Redis key prefix and one data folder of their own, so runs never see each other's.
 */
export class Cluster {
  private readonly processes: Started[] = [];

  private constructor(
    readonly dir: string,
    readonly configFile: string,
    readonly postgresUrl: string,
    readonly prefix: string,
    private readonly dropSchema: () => Promise<void>,
  ) {}

  /** `config` is merged over the deployment's data and queue settings. */
  static async create(config: Record<string, unknown> = {}): Promise<Cluster> {
    const dir = await mkdtemp(join(tmpdir(), 'visionops-cluster-'));
    const schema = await freshSchema();
    const prefix = freshPrefix();
    const { queue = {}, ...rest } = config as { queue?: Record<string, unknown> };
    const full = {
      data: { dir: join(dir, 'data'), store: 'postgres', postgres: { url: schema.url, poolSize: 4 } },
      queue: { redis: { url: TEST_REDIS, prefix }, ...queue },
      server: { logLevel: 'warn' },
      ...rest,
    };
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify(full));
    return new Cluster(dir, configFile, schema.url, prefix, schema.drop);
  }

  /** `visionops serve` on a free port; resolves once it answers /readyz. */
  async api(): Promise<{ url: string; process: Started }> {
    const port = await freePort();
    const started = this.start(['serve', '--config', this.configFile, '--port', String(port)]);
    const url = `http://127.0.0.1:${port}`;
    for (let tries = 0; ; tries++) {
      const ready = await fetch(`${url}/readyz`).then((response) => response.ok, () => false);
      if (ready) return { url, process: started };
      if (started.child.exitCode !== null || tries > 600) throw new Error(`the API process did not become ready:\n${started.output()}`);
      await sleep(100);
    }
  }

  /** `visionops worker`; resolves once it says it is ready. */
  async worker(...args: string[]): Promise<Started> {
    const started = this.start(['worker', '--config', this.configFile, ...args]);
    for (let tries = 0; !started.output().includes('worker ready'); tries++) {
      if (started.child.exitCode !== null || tries > 600) throw new Error(`the worker did not become ready:\n${started.output()}`);
      await sleep(100);
    }
    return started;
  }

  /** Stops every process still running and removes the schema, the Redis keys and the folder. */
  async close(): Promise<void> {
    for (const started of this.processes) if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
    await Promise.all(this.processes.map((started) => started.exited));
    await dropRedisPrefix(this.prefix);
    await this.dropSchema();
    await rm(this.dir, { recursive: true, force: true });
  }

  private start(args: string[]): Started {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const started = { child, output: () => output, exited };
    this.processes.push(started);
    return started;
  }
}

/** Deletes every Redis key under `prefix` (one test's queue). */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A Redis key prefix of its own for one test. */
export function freshPrefix(): string {
  return `visionops_test_${randomBytes(6).toString('hex')}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

