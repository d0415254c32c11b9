import { createHash } from 'node:crypto';
import { answerAgreement } from '../core/records/agreement.js';
import { isVisionopsError } from '../core/errors.js';
import type { ModelLineage, PredictionRecord, TaskResult } from '../core/records/prediction.js';
import type { MonitorMetrics } from '../monitor/metrics.js';
import type { PredictOptions } from '../pipeline/cached-prediction.js';
import type { Pipeline, PredictionListener } from '../pipeline/contract.js';
import type { PredictionService } from '../pipeline/service.js';
import type { ModelManifest } from '../runtime/manifest.js';
import type { ModelStore } from '../store/store.js';
import type { ModelRun, RunStage, StageAssignment } from './types.js';

/** A pipeline with some slots' registered versions in place of the ones it was loaded with (slot -> manifest). */
export type PipelineFactory = (versions: ReadonlyMap<string, ModelManifest>) => Promise<Pipeline>;

/** A shadow's reading of an image: the models and the decision, nothing recorded. */
export type ShadowRun = (pipeline: Pipeline, bytes: Uint8Array) => Promise<{ result: TaskResult | null; decision: PredictionRecord['decision'] }>;

export interface RoutingDeps {
  /** The pipeline as loaded from the configuration (the built-in versions): used while production is what it holds, never closed here. */
  base: Pipeline;
  /** Builds the pipeline of other versions; null when the pipeline cannot be rebuilt (then it always runs as loaded). */
  factory: PipelineFactory | null;
  /** The stage runner, recorder and cache over one pipeline: what answers a request. */
  serviceOf(pipeline: Pipeline): PredictionService;
  shadowRun: ShadowRun;
  store: ModelStore;
  /** Shadow runs at once; one more is dropped and counted. */
  shadowConcurrency: number;
  metrics?: MonitorMetrics;
  /** Uniform in [0, 1): the canary draw for a request without X-Visionops-Source. */
  random?: () => number;
  /** Where work done after the answer (run rows, shadows) reports a failure. */
  onBackgroundError?: (error: unknown) => void;
}

/** One way to answer: a pipeline whose slots run given versions, in a stage. */
interface Arm {
  /** The versions it runs, slot@version joined: equal keys are the same pipeline, reused across plans. */
  key: string;
  stage: RunStage;
  /** The slot under trial (canary, shadow); null for production. */
  slot: string | null;
  weight: number;
  /** The pipeline with each model's stage in its lineage. */
  pipeline: Pipeline;
  /** The pipeline as loaded: what is closed, and what two arms of the same versions share. */
  inner: Pipeline;
  service: PredictionService | null;
}

interface Plan {
  production: Arm;
  canaries: Arm[];
  shadows: Arm[];
}

/** Errors that say the models failed, as opposed to the image, the client or the load. */
const MODEL_ERRORS = new Set(['INFERENCE_FAILED', 'MODEL_LOAD_FAILED', 'MODEL_NOT_FOUND', 'INTERNAL']);

/** The share 0..1 a client's name falls on: the same name always lands on the same point, so one client sees one version. */
export function stickyPoint(client: string): number {
  return createHash('sha256').update(client).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * One pipeline's versions in front of traffic: production answers, each canary answers its
 * weight's share (sticky by the request's `source.client`, the X-Visionops-Source header), and
 * each shadow reads the same image after the answer, bounded. `refresh` reads the stages from the
 * registry and swaps the plan at once: a request keeps the plan it started with, and a pipeline
 * left out of the new plan is closed when its last request has finished. Every record's lineage
 * names each model's stage, and every run is kept for judging.
 */
export class RoutedPipeline {
  private plan: Plan;
  private readonly slots: string[];
  private refreshing: Promise<void> = Promise.resolve();
  private shadowsRunning = 0;
  /** Pipelines built here: closed once no plan holds them and their last request has finished. The base pipeline is never among them. */
  private readonly owned = new Set<Pipeline>();
  /** Requests and shadow runs under way on each loaded pipeline, whichever arm they came through. */
  private readonly busy = new Map<Pipeline, number>();
  private readonly retired = new Set<Pipeline>();
  private readonly background = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly deps: RoutingDeps) {
    this.slots = deps.base.models.map((m) => m.id);
    this.plan = { production: this.arm(deps.base, 'production', null, 1, baseKey(deps.base)), canaries: [], shadows: [] };
  }

  /** The production pipeline now. */
  get pipeline(): Pipeline {
    return this.plan.production.pipeline;
  }

  get scope(): string {
    return this.service(this.plan.production).scope;
  }

  /**
   * Reads the stages of this pipeline's slots and swaps in the plan they make. Pipelines of new
   * versions are loaded first; when one fails to load, the plan in force stays and the error is thrown.
   */
  refresh(): Promise<void> {
    const next = this.refreshing.then(() => this.rebuild());
    this.refreshing = next.catch(() => {});
    return next;
  }

  predict(bytes: Uint8Array, source: Record<string, unknown> = {}, listener?: PredictionListener, options?: PredictOptions): Promise<PredictionRecord> {
    const plan = this.plan;
    const arm = this.choose(plan, source);
    this.hold(arm.inner);
    const started = performance.now();
    return this.service(arm)
      .predict(bytes, source, listener, options)
      .then(
        (record) => {
          this.keep(runsOf(record.lineage.models, record, arm.stage));
          this.count(record.lineage.models, arm.stage, record.decision, record.timings.total ?? performance.now() - started);
          // After the answer: the caller gets its record first, the shadows read the image later.
          if (plan.shadows.length > 0) this.track(new Promise<void>((resolve) => setImmediate(() => resolve(this.shadow(plan, bytes, record)))));
          return record;
        },
        (error: unknown) => {
          if (isVisionopsError(error) && MODEL_ERRORS.has(error.code)) this.failed(arm, performance.now() - started);
          throw error;
        },
      )
      .finally(() => this.release(arm.inner));
  }

  /** Waits for the runs and shadows under way, then closes every pipeline built here. */
  async close(): Promise<void> {
    this.closed = true;
    await this.refreshing;
    await this.settle();
    await Promise.all([...this.owned].map((pipeline) => pipeline.close()));
    this.owned.clear();
  }

  /** Resolves when the work started after answers (run rows, shadows) has finished. */
  async settle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private choose(plan: Plan, source: Record<string, unknown>): Arm {
    if (plan.canaries.length === 0) return plan.production;
    const client = typeof source.client === 'string' && source.client !== '' ? source.client : null;
    const point = client === null ? (this.deps.random ?? Math.random)() : stickyPoint(client);
    let edge = 0;
    for (const canary of plan.canaries) {
      edge += canary.weight;
      if (point < edge) return canary;
    }
    return plan.production;
  }

  private service(arm: Arm): PredictionService {
    arm.service ??= this.deps.serviceOf(arm.pipeline);
    return arm.service;
  }

  /** The base pipeline, or one built here and not closed. */
  private isLoaded(pipeline: Pipeline): boolean {
    return pipeline === this.deps.base || this.owned.has(pipeline);
  }

  private hold(pipeline: Pipeline): void {
    this.busy.set(pipeline, (this.busy.get(pipeline) ?? 0) + 1);
  }

  private release(pipeline: Pipeline): void {
    const left = (this.busy.get(pipeline) ?? 1) - 1;
    this.busy.set(pipeline, left);
    if (left === 0 && this.retired.has(pipeline)) this.closeRetired(pipeline);
  }

  private closeRetired(pipeline: Pipeline): void {
    this.retired.delete(pipeline);
    this.busy.delete(pipeline);
    if (this.owned.delete(pipeline)) this.track(pipeline.close());
  }

  private async rebuild(): Promise<void> {
    if (this.closed || this.deps.factory === null) return;
    const assignments = (await this.deps.store.assignments()).filter((a) => this.slots.includes(a.model));
    const production = new Map<string, StageAssignment>(assignments.filter((a) => a.stage === 'production').map((a) => [a.model, a]));
    const current = [this.plan.production, ...this.plan.canaries, ...this.plan.shadows];
    const built: Arm[] = [];
    const arm = async (stage: RunStage, trial: StageAssignment | null, weight: number): Promise<Arm> => {
      const versions = this.slots.map((slot, i) =>
        trial !== null && trial.model === slot ? trial.version : (production.get(slot)?.version ?? this.deps.base.models[i].version),
      );
      const key = this.slots.map((slot, i) => `${slot}@${versions[i]}`).join(' + ');
      const same = current.find((a) => a.key === key && a.stage === stage && a.slot === (trial?.model ?? null));
      if (same !== undefined) {
        same.weight = weight;
        return same;
      }
      // The same versions in another stage (a canary promoted) keep their loaded pipeline.
      const moved = current.find((a) => a.key === key) ?? built.find((a) => a.key === key);
      if (moved !== undefined) return this.arm(moved.inner, stage, trial?.model ?? null, weight, key);
      const pipeline = key === baseKey(this.deps.base) ? this.deps.base : await this.deps.factory!(await this.manifests(versions));
      const made = this.arm(pipeline, stage, trial?.model ?? null, weight, key);
      if (pipeline !== this.deps.base) this.owned.add(pipeline);
      built.push(made);
      return made;
    };
    let next: Plan;
    try {
      next = {
        production: await arm('production', null, 1),
        canaries: await sequential(assignments.filter((a) => a.stage === 'canary'), (a) => arm('canary', a, a.weight ?? 0)),
        shadows: await sequential(assignments.filter((a) => a.stage === 'shadow'), (a) => arm('shadow', a, 0)),
      };
    } catch (error) {
      for (const arm of built) if (this.owned.delete(arm.inner)) await arm.inner.close();
      throw error;
    }
    const kept = new Set([next.production, ...next.canaries, ...next.shadows].map((a) => a.inner));
    this.plan = next;
    for (const old of current) {
      if (kept.has(old.inner) || !this.owned.has(old.inner)) continue;
      this.retired.add(old.inner);
      if ((this.busy.get(old.inner) ?? 0) === 0) this.closeRetired(old.inner);
    }
    // A pipeline retired earlier and taken back before its last request finished is kept.
    for (const pipeline of kept) this.retired.delete(pipeline);
  }

  /** The manifests of registered versions that differ from what the base pipeline was loaded with. */
  private async manifests(versions: (string | null)[]): Promise<Map<string, ModelManifest>> {
    const manifests = new Map<string, ModelManifest>();
    for (const [i, slot] of this.slots.entries()) {
      const version = versions[i];
      const loaded = this.deps.base.models[i];
      if (version === null || version === loaded.version) continue;
      const registered = await this.deps.store.version(slot, version);
      if (registered !== null) manifests.set(slot, registered.manifest);
    }
    return manifests;
  }

  /** An arm over `pipeline` whose lineage names, for each model, the stage it runs in. */
  private arm(pipeline: Pipeline, stage: RunStage, slot: string | null, weight: number, key: string): Arm {
    const models = pipeline.models.map((m): ModelLineage => ({ ...m, lifecycle: slot === null || m.id === slot ? stage : 'production' }));
    const staged: Pipeline = {
      name: pipeline.name,
      task: pipeline.task,
      version: pipeline.version,
      models,
      stages: pipeline.stages,
      decision: pipeline.decision,
      gate: pipeline.gate,
      sessions: pipeline.sessions,
      run: (frame, context) => pipeline.run(frame, context),
      readRegions: pipeline.readRegions?.bind(pipeline),
      replay: (result, listener) => pipeline.replay(result, listener),
      close: () => pipeline.close(),
    };
    return { key, stage, slot, weight, pipeline: staged, inner: pipeline, service: null };
  }

  private shadow(plan: Plan, bytes: Uint8Array, answer: PredictionRecord): void {
    if (answer.lineage.cache !== undefined) return;
    for (const arm of plan.shadows) {
      const trial = arm.pipeline.models.find((m) => m.id === arm.slot);
      // Switched off since the answer: its pipeline may be closing.
      if (trial === undefined || this.retired.has(arm.inner) || !this.isLoaded(arm.inner)) continue;
      if (this.shadowsRunning >= this.deps.shadowConcurrency || this.closed) {
        this.deps.metrics?.shadowDropped.inc({ model: trial.id, version: trial.version });
        continue;
      }
      this.shadowsRunning++;
      this.hold(arm.inner);
      const started = performance.now();
      const run = this.deps
        .shadowRun(arm.pipeline, bytes)
        .then(
          ({ result, decision }) => {
            const latencyMs = performance.now() - started;
            const agreement = answerAgreement(answer.result, result);
            this.deps.metrics?.shadowAgreement.observe({ model: trial.id, version: trial.version }, agreement);
            this.count([trial], 'shadow', decision, latencyMs);
            return this.deps.store.recordRuns([shadowRow(trial, answer.id, decision, false, latencyMs, agreement)]);
          },
          (error: unknown) => {
            const latencyMs = performance.now() - started;
            if (!(isVisionopsError(error) && MODEL_ERRORS.has(error.code))) throw error;
            this.deps.metrics?.modelRunErrors.inc({ model: trial.id, version: trial.version, stage: 'shadow' });
            return this.deps.store.recordRuns([shadowRow(trial, answer.id, null, true, latencyMs, null)]);
          },
        )
        .finally(() => {
          this.shadowsRunning--;
          this.release(arm.inner);
        });
      this.track(run);
    }
  }

  private failed(arm: Arm, latencyMs: number): void {
    const at = new Date().toISOString();
    for (const m of arm.pipeline.models) this.deps.metrics?.modelRunErrors.inc({ model: m.id, version: m.version, stage: m.lifecycle ?? arm.stage });
    this.keep(arm.pipeline.models.map((m) => ({ model: m.id, version: m.version, stage: m.lifecycle ?? arm.stage, at, predictionId: null, decision: null, failed: true, latencyMs, agreement: null })));
  }

  private count(models: ModelLineage[], stage: RunStage, decision: PredictionRecord['decision'] | null, latencyMs: number): void {
    const metrics = this.deps.metrics;
    if (metrics === undefined) return;
    for (const m of models) {
      const labels = { model: m.id, version: m.version, stage: m.lifecycle ?? stage };
      metrics.modelRuns.inc({ ...labels, decision: decision ?? 'none' });
      metrics.modelRunDuration.observe(labels, latencyMs / 1000);
    }
  }

  /** Keeps run rows without holding the answer back; a failure is reported, not thrown at the client. */
  private keep(runs: ModelRun[]): void {
    if (runs.length > 0) this.track(this.deps.store.recordRuns(runs));
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.deps.onBackgroundError?.(error));
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }
}

function baseKey(base: Pipeline): string {
  return base.models.map((m) => `${m.id}@${m.version}`).join(' + ');
}

function runsOf(models: ModelLineage[], record: PredictionRecord, stage: RunStage): ModelRun[] {
  // A gate-stopped image ran no model: it says nothing of any version.
  return models.map((m) => ({
    model: m.id,
    version: m.version,
    stage: m.lifecycle ?? stage,
    at: record.createdAt,
    predictionId: record.id,
    decision: record.decision,
    failed: false,
    latencyMs: record.timings.total ?? 0,
    agreement: null,
  }));
}

function shadowRow(model: ModelLineage, predictionId: string, decision: PredictionRecord['decision'] | null, failed: boolean, latencyMs: number, agreement: number | null): ModelRun {
  return { model: model.id, version: model.version, stage: 'shadow', at: new Date().toISOString(), predictionId, decision, failed, latencyMs, agreement };
}

async function sequential<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await work(item));
  return out;
}
