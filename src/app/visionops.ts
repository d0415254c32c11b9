import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { VisionopsError } from '../core/errors.js';
import type { CpuReader } from '../monitor/busy-time.js';
import { createMonitor, type Monitor } from '../monitor/monitor.js';
import type { Pipeline } from '../pipeline/contract.js';
import { configuredPipeline, loadPipelines, reloadPipeline } from '../pipeline/pipelines.js';
import { withRegisteredPipelines } from '../pipeline/own/registered.js';
import { ownModelOf } from '../pipeline/own/own-pipeline.js';
import { pathSettings, StageRunner, type PredictionObserver } from '../pipeline/runner.js';
import { choosePipelines, createPredictionService, type PredictionServices } from '../pipeline/service.js';
import { withIdempotency } from '../pipeline/idempotency.js';
import { openSharedAnswers } from '../pipeline/shared-answers.js';
import { Lifecycle } from '../registry/lifecycle.js';
import { openJobQueue } from '../queue/open.js';
import { modelsDirOf } from '../registry/local-models.js';
import type { PipelineFactory } from '../registry/routing.js';
import { createReviewObserver } from '../review/queue.js';
import type { LabModel } from '../review/stats.js';
import { builtinManifests } from '../runtime/builtin.js';
import { buildServer } from '../server/app.js';
import { openStores, type Stores } from '../store/open.js';

/**
 * What a process builds: `gate` the stage runners as far as the gate, nothing opened (`visionops
 * check`, `profile --gate-only`); `read` the pipelines' models too (`profile`); `store` the
 * stores alone (`export`); `run` stores, pipelines and services with the review queue (`run`,
 * benchmarks); `serve` all of that and the monitor, and the HTTP server (`serve`, the tests).
 */
export type VisionopsScope = 'gate' | 'read' | 'store' | 'run' | 'serve';

/** Parts a test or a benchmark provides instead of the configured ones. */
export interface VisionopsOverrides {
  /** Pipelines already loaded (a fixed-reading stub; one real pipeline shared by several systems): used in place of `pipelines`, and left open by `close`. */
  pipelines?: Pipeline[];
  /** Stores already open (a fixture's): used in place of `data`'s, and left open by `close`. */
  stores?: Stores;
  /** The monitor's clock. */
  now?: () => Date;
  /** The monitor's CPU reader. */
  cpu?: CpuReader;
  /** The review routes' clock, in milliseconds. */
  reviewNow?: () => number;
  /** Uniform in [0, 1), for the review queue's audit draw. */
  random?: () => number;
  /** The lab figures of the models tasks may name; the built-in models' manifests by default. */
  lab?: LabModel[];
  /** The observers of recorded predictions in place of the built-in ones (the monitor's, then the review queue's): `[]` measures the path alone. */
  observers?: PredictionObserver[];
  /** Where the shared cache's failures are told; stderr by default. */
  onSharedCacheError?: (error: Error, failures: number) => void;
  /** How the lifecycle builds a pipeline with other model versions, in place of loading the configured one again (tests' stub pipelines). */
  pipelineFactory?: (pipeline: Pipeline) => PipelineFactory | null;
  /** Uniform in [0, 1), for the canary draw of requests without X-Visionops-Source. */
  canaryRandom?: () => number;
}

export interface VisionopsOptions {
  scope?: VisionopsScope;
  overrides?: VisionopsOverrides;
}

/** The stage runners of a process that records nothing (`check`, `profile`). */
export interface VisionopsReader {
  readonly config: Config;
  /** Empty in scope `gate`. */
  readonly pipelines: Pipeline[];
  /** The named pipeline's stage runner (the default: the first), without a recorder: it stops at the gate or the decision. */
  runner(name?: string): StageRunner;
  close(): Promise<void>;
}

export interface VisionopsStores {
  readonly config: Config;
  readonly stores: Stores;
  close(): Promise<void>;
}

/** A running visionops: every part built from one configuration, closed in order by `close`. */
export interface Visionops extends VisionopsReader, VisionopsStores {
  readonly services: PredictionServices;
  /** Null in scope `run`. */
  readonly monitor: Monitor | null;
  /** The model versions in front of traffic: routers, stage refresh, rollback rules. */
  readonly lifecycle: Lifecycle;
  /** The HTTP API over this system (scope `serve`); `ready` reports readiness (false while draining). Closed by `close`. */
  server(options?: { ready?: () => boolean }): Promise<FastifyInstance>;
}

/**
 * The one composition root: builds the stores, pipelines, services, monitor and review queue from
 * one configuration, and `close` takes them down in the reverse order (server, pipelines,
 * monitor, shared cache, stores). Nothing here has a hidden default: a part not built is not there.
 *
 * @example
 * const visionops = await createVisionops(config);
 * const app = await visionops.server();
 * await app.listen({ host: config.server.host, port: config.server.port });
 * // ...
 * await visionops.close();
 */
export function createVisionops(config: Config, options: VisionopsOptions & { scope: 'gate' | 'read' }): Promise<VisionopsReader>;
export function createVisionops(config: Config, options: VisionopsOptions & { scope: 'store' }): Promise<VisionopsStores>;
export function createVisionops(config: Config, options?: VisionopsOptions & { scope?: 'run' | 'serve' }): Promise<Visionops>;
export async function createVisionops(config: Config, { scope = 'serve', overrides = {} }: VisionopsOptions = {}): Promise<VisionopsReader | VisionopsStores | Visionops> {
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    return await build(await withRegisteredPipelines(config), scope, overrides, closers, close);
  } catch (error) {
    await close();
    throw error;
  }
}

async function build(config: Config, scope: VisionopsScope, overrides: VisionopsOverrides, closers: (() => Promise<void> | void)[], close: () => Promise<void>) {
  if (scope === 'gate') return reader(config, [], close);
  const stores = scope === 'read' ? null : (overrides.stores ?? own(closers, openStores(config.data), (s) => s.close()));
  if (scope === 'store') return { config, stores: stores as Stores, close };

  const monitor = scope === 'serve' ? own(closers, await createMonitor({ config, store: stores?.monitor, now: overrides.now, cpu: overrides.cpu }), (m) => m.close()) : null;
  const pipelines =
    overrides.pipelines ??
    own(closers, await loadPipelines(config, { modelsDir: modelsDirOf(config.data.dir), onBatch: monitor?.onBatch, onRemote: monitor?.onRemote }), (loaded) => Promise.all(loaded.map((p) => p.close())));
  if (stores === null) return reader(config, pipelines, close);

  const shared = openSharedAnswers(config.cache, overrides.onSharedCacheError ?? reportSharedCacheError);
  if (shared !== null) own(closers, shared, (s) => s.close());
  const observers = overrides.observers ?? [
    ...(monitor === null ? [] : monitor.observers),
    createReviewObserver({ reviews: stores.reviews, blobs: stores.blobs, auditRate: config.review.auditRate, random: overrides.random }),
  ];
  const modelsDir = modelsDirOf(config.data.dir);
  const lifecycle = own(
    closers,
    await Lifecycle.start({
      config,
      store: stores.models,
      pipelines,
      factory:
        overrides.pipelineFactory ??
        ((pipeline) => (overrides.pipelines === undefined ? (versions) => reloadPipeline(config, pipeline.name, versions, { modelsDir, onBatch: monitor?.onBatch, onRemote: monitor?.onRemote }) : null)),
      declared: pipelines.flatMap((pipeline) => ownModelOf(pipeline) ?? []),
      serviceOf: (pipeline) => createPredictionService({ config, pipeline, store: stores.predictions, blobs: stores.blobs, observers, shared }),
      shadowRun: async (pipeline, bytes) => {
        const { result, decision } = await new StageRunner(pathSettings(config, configuredPipeline(config, pipeline.name).settings), pipeline).run(bytes, { until: 'decide' });
        return { result, decision };
      },
      metrics: monitor?.metrics,
      alert: (verdict) => monitor?.raise([verdict]),
      random: overrides.canaryRandom,
      onBackgroundError: reportLifecycleError,
    }),
    (l) => l.close(),
  );
  if (scope === 'serve') lifecycle.watch();
  const services = choosePipelines(
    pipelines.map((pipeline) => {
      const service = lifecycle.serviceFor(pipeline);
      return withIdempotency(monitor === null ? service : monitor.instrument(service), stores.predictions);
    }),
  );
  const lab = overrides.lab ?? Object.values(await builtinManifests());
  const jobs = monitor === null ? null : openJobQueue(config.queue, monitor, closers);

  const visionops: Visionops = {
    ...reader(config, pipelines, close),
    stores,
    services,
    monitor,
    lifecycle,
    async server({ ready = () => true } = {}) {
      if (monitor === null) throw new VisionopsError('INTERNAL', 'A server needs the monitor: build visionops with scope "serve".');
      const app = await buildServer({
        config,
        services,
        store: stores.predictions,
        ready,
        monitor,
        review: {
          reviews: stores.reviews,
          blobs: stores.blobs,
          lab,
          now: overrides.reviewNow,
          onAnswered: (task, figures) => monitor.reviewAnswered(task, figures),
        },
        models: { store: stores.models, lifecycle },
        jobs: { jobs, blobs: stores.blobs },
      });
      own(closers, app, (a) => a.close());
      return app;
    },
  };
  return visionops;
}

function reader(config: Config, pipelines: Pipeline[], close: () => Promise<void>): VisionopsReader {
  return {
    config,
    pipelines,
    runner(name) {
      const { name: chosen, settings } = configuredPipeline(config, name);
      return new StageRunner(pathSettings(config, settings), pipelines.find((pipeline) => pipeline.name === chosen) ?? null);
    },
    close,
  };
}

/** Registers `part` to be closed by `close`, in the reverse of the order parts were built. */
function own<T>(closers: (() => Promise<void> | void)[], part: T, closeIt: (part: T) => Promise<unknown> | unknown): T {
  closers.push(async () => void (await closeIt(part)));
  return part;
}

function reportLifecycleError(error: unknown): void {
  process.stderr.write(`visionops: model lifecycle (registry, stage refresh, runs kept after an answer) failed: ${error instanceof Error ? error.message : String(error)}\n`);
}

function reportSharedCacheError(error: Error, failures: number): void {
  process.stderr.write(`visionops: the shared answer cache (cache.redis) failed ${failures} time(s), last: ${error.message}; images are computed meanwhile\n`);
}
