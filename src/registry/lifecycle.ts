import type { Config } from '../config/schema.js';
import { isVisionopsError } from '../core/errors.js';
import type { RuleVerdict } from '../core/monitor/alerts.js';
import type { MonitorMetrics } from '../monitor/metrics.js';
import type { Pipeline } from '../pipeline/contract.js';
import type { PredictionService } from '../pipeline/service.js';
import { builtinManifests } from '../runtime/builtin.js';
import type { ModelManifest } from '../runtime/manifest.js';
import type { ModelStore } from '../store/store.js';
import { registerDeclaredModel } from './declared.js';
import { compareVersions } from './judging.js';
import { modelsDirOf } from './local-models.js';
import { changeStage, registerBuiltins } from './registry.js';
import { judgeCandidate, type RuleFinding } from './rollback-rules.js';
import { RoutedPipeline, type ShadowRun } from './routing.js';

export interface LifecycleDeps {
  config: Config;
  store: ModelStore;
  /** The pipelines as loaded from the configuration. */
  pipelines: Pipeline[];
  /** Builds a pipeline with registered versions in some slots; null for a pipeline that cannot be rebuilt. */
  factory(pipeline: Pipeline): ((versions: ReadonlyMap<string, ModelManifest>) => Promise<Pipeline>) | null;
  serviceOf(pipeline: Pipeline): PredictionService;
  /** The models of users' own pipelines as loaded (not the built-ins): registered on start, in production when their slot has none. */
  declared?: ModelManifest[];
  shadowRun: ShadowRun;
  metrics?: MonitorMetrics;
  /** Told of each automatic rollback or promotion, as an alert verdict. */
  alert?: (verdict: RuleVerdict) => void;
  random?: () => number;
  now?: () => Date;
  onBackgroundError?: (error: unknown) => void;
}

/** What one evaluation of the rules did to one candidate. */
export interface LifecycleAction {
  model: string;
  version: string;
  action: 'rolled back' | 'promoted';
  finding: RuleFinding | null;
}

/**
 * The model lifecycle of a running system: one router per pipeline (production, canary, shadows),
 * kept in step with the registry by `refresh` (after each change here, and every
 * `lifecycle.refreshSeconds` for changes made elsewhere), and the rollback rules evaluated every
 * `lifecycle.rollback.evaluateSeconds`.
 */
export class Lifecycle {
  readonly routers = new Map<string, RoutedPipeline>();
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    private readonly deps: LifecycleDeps,
    /** Whether the built-in models still have to be registered (done by the first refresh that reaches the store). */
    private needsBuiltins: boolean,
    /** Users' models still to be registered (by the first refresh that reaches the store). */
    private declared: ModelManifest[],
  ) {
    for (const pipeline of deps.pipelines) {
      this.routers.set(
        pipeline.name,
        new RoutedPipeline({
          base: pipeline,
          factory: deps.factory(pipeline),
          serviceOf: deps.serviceOf,
          shadowRun: deps.shadowRun,
          store: deps.store,
          shadowConcurrency: deps.config.lifecycle.shadow.concurrency,
          metrics: deps.metrics,
          random: deps.random,
          onBackgroundError: deps.onBackgroundError,
        }),
      );
    }
  }

  /**
   * Registers the built-in models on first start (when a pipeline runs them) and the models of
   * users' own pipelines (a version already registered with other weights stops the start:
   * MODEL_VERSION_EXISTS), then routes as the registry says. A store that cannot be reached does
   * not stop the start (the server reports itself unready meanwhile): the pipelines run as
   * loaded, and each refresh tries again.
   */
  static async start(deps: LifecycleDeps): Promise<Lifecycle> {
    const builtin = Object.values(await builtinManifests()).map((m) => m.id);
    const lifecycle = new Lifecycle(deps, deps.pipelines.some((p) => p.models.some((m) => builtin.includes(m.id))), [...(deps.declared ?? [])]);
    try {
      await lifecycle.refresh();
    } catch (error) {
      if (!(isVisionopsError(error) && error.code === 'STORE_UNAVAILABLE')) throw error;
      deps.onBackgroundError?.(error);
    }
    return lifecycle;
  }

  /** Starts the timers: stage changes made by other processes, and the rollback rules. */
  watch(): void {
    const { lifecycle } = this.deps.config;
    const every = (seconds: number, work: () => Promise<unknown>) => {
      const timer = setInterval(() => void work().catch((error: unknown) => this.deps.onBackgroundError?.(error)), seconds * 1000);
      timer.unref();
      this.timers.push(timer);
    };
    every(lifecycle.refreshSeconds, () => this.refresh());
    if (lifecycle.rollback.enabled || lifecycle.autoPromote) every(lifecycle.rollback.evaluateSeconds, () => this.evaluate());
  }

  /** The service that answers for a pipeline: its router. */
  serviceFor(pipeline: Pipeline): PredictionService {
    const router = this.routers.get(pipeline.name)!;
    return {
      get pipeline() {
        return router.pipeline;
      },
      get scope() {
        return router.scope;
      },
      predict: (bytes, source, listener, options) => router.predict(bytes, source, listener, options),
    };
  }

  /** Reads the stages again and swaps every router's plan. */
  async refresh(): Promise<void> {
    if (this.needsBuiltins) {
      await registerBuiltins(this.deps.store, this.deps.now);
      this.needsBuiltins = false;
    }
    while (this.declared.length > 0) {
      await registerDeclaredModel(this.deps.store, modelsDirOf(this.deps.config.data.dir), { manifest: this.declared[0], notes: { declaredBy: 'configuration' } }, this.deps.now);
      this.declared.shift();
    }
    await Promise.all([...this.routers.values()].map((router) => router.refresh()));
  }

  /**
   * Judges every canary and shadow against production: one a rule finds worse is switched off
   * (and an alert raised naming the rule and the figures); with `lifecycle.autoPromote`, a canary
   * that has run `promoteAfter` times with no rule against it is promoted.
   */
  async evaluate(): Promise<LifecycleAction[]> {
    const { rollback, autoPromote, promoteAfter } = this.deps.config.lifecycle;
    const actions: LifecycleAction[] = [];
    for (const trial of (await this.deps.store.assignments()).filter((a) => a.stage === 'canary' || a.stage === 'shadow')) {
      const comparison = await compareVersions(this.deps.store, trial.model, trial.version);
      const finding = rollback.enabled ? judgeCandidate(rollback, comparison) : null;
      if (finding !== null) {
        await changeStage(this.deps.store, { model: trial.model, version: trial.version, stage: 'off', by: 'auto-rollback', reason: `${finding.rule}: ${finding.message}` }, this.deps.now);
        this.deps.alert?.({
          rule: `model-rollback:${trial.model}`,
          firing: true,
          message: `${trial.model}@${trial.version} (${trial.stage}) switched off by rule ${finding.rule}: ${finding.message}.`,
          details: { model: trial.model, version: trial.version, stage: trial.stage, ...finding, candidateRuns: comparison.candidate.runs, productionRuns: comparison.production.runs },
        });
        actions.push({ model: trial.model, version: trial.version, action: 'rolled back', finding });
      } else if (autoPromote && trial.stage === 'canary' && comparison.candidate.runs >= Math.max(promoteAfter, rollback.minSample)) {
        await changeStage(this.deps.store, { model: trial.model, version: trial.version, stage: 'production', by: 'auto-promote', reason: `${comparison.candidate.runs} runs with no rollback rule against it` }, this.deps.now);
        actions.push({ model: trial.model, version: trial.version, action: 'promoted', finding: null });
      }
    }
    if (actions.length > 0) await this.refresh();
    return actions;
  }

  async close(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await Promise.all([...this.routers.values()].map((router) => router.close()));
  }
}
