import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { Config } from '../config/schema.js';
import { VisionopsError } from '../core/errors.js';
import { AlertBook, type AlertState } from '../core/monitor/alerts.js';
import { DataMonitor, type ObservationOutcome } from '../core/monitor/data-monitor.js';
import type { MonitorObservation } from '../core/monitor/features.js';
import type { ReferenceProfile } from '../core/monitor/profile.js';
import { RateWatch } from '../core/monitor/rate-shift.js';
import type { PredictionService } from '../pipeline/service.js';
import type { PredictionObserver, RecordedPrediction } from '../pipeline/runner.js';
import type { ModelLineage, PredictionRecord } from '../core/records/prediction.js';
import { performanceMetrics, type PerformanceMetrics } from '../pipeline/performance-metrics.js';
import type { ReviewTask } from '../core/records/review.js';
import type { ModelReviewStats } from '../review/stats.js';
import { evaluateRules } from './alert-rules.js';
import { BusyClock, type CpuReader } from './busy-time.js';
import type { MonitorConfig } from './config.js';
import { watchGpus } from './gpu.js';
import { MonitorMetrics } from './metrics.js';
import { observationOf } from './observation.js';
import { parseReferenceProfile } from './reference-file.js';
import type { MonitorStore } from '../store/store.js';
import { buildSummary, type MonitorSummary, type PredictionPoint } from '../core/monitor/summary.js';
import { sendWebhooks } from './webhooks.js';

export interface MonitorLog {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

export interface MonitorDeps {
  config: Config;
  /** Alert transitions and the production-built reference are kept here; without it, in memory only. */
  store?: MonitorStore;
  now?: () => Date;
  cpu?: CpuReader;
  log?: MonitorLog;
}

/** What the review module reports of one answered review. */
export interface ReviewOutcome {
  /** The version of the model whose output was reviewed, e.g. "ppocrv4-rec@4.0.0". */
  modelVersion: string;
  /** True when the person changed the model's output. */
  overridden: boolean;
}

/** Figures of one model version, measured from reviews (production) or on a held-out set (lab). */
export interface AccuracyFigure {
  modelVersion: string;
  production?: number;
  lab?: number;
}

/** Stages whose time is a model's, by the role the model has in the pipeline's lineage. */
const STAGE_ROLES: Record<string, string> = { detection: 'detection', classification: 'orientation', recognition: 'recognition' };
/** Stages that are bookkeeping, not work: the total is its own metric. */
const UNTIMED_STAGES = new Set(['total']);
const RECENT_PREDICTIONS = 2000;
const RECENT_REVIEWS = 500;
const THUMBNAIL_SIDE = 96;
const silentLog: MonitorLog = { info: () => {}, warn: () => {} };

/**
 * The monitor of one server: Prometheus metrics, drift and outliers over the predictions it is
 * told of, alert rules with their transitions recorded and sent, and the dashboard's summary.
 *
 * @example
 * const monitor = await createMonitor({ config, store: stores.monitor });
 * const service = monitor.instrument(createPredictionService({ config, pipeline, store, blobs, observers: [monitor.observer] }), pipeline);
 */
export class Monitor {
  readonly metrics: MonitorMetrics;
  readonly data: DataMonitor;
  readonly observer: PredictionObserver;
  /** The batcher's and the cache's and cascade's counters, in this monitor's registry. */
  readonly performance: PerformanceMetrics;
  private readonly config: MonitorConfig;
  private readonly book: AlertBook;
  private readonly busy: BusyClock;
  private readonly now: () => Date;
  private log: MonitorLog;
  private readonly recent: PredictionPoint[] = [];
  private readonly errorWatch: RateWatch;
  private readonly errorCodes = new Map<string, number>();
  private readonly qualityValues = new Map<string, number[]>();
  private readonly reviews = new Map<string, boolean[]>();
  private readonly accuracy = new Map<string, AccuracyFigure>();
  private readonly pending = new Set<Promise<unknown>>();
  private inFlight = 0;
  private costTotal = 0;
  private stopGpu: () => void = () => {};
  private readonly gpuProviders: boolean;

  constructor(
    private readonly deps: MonitorDeps,
    reference: ReferenceProfile | null,
  ) {
    this.config = deps.config.monitor;
    this.now = deps.now ?? (() => new Date());
    this.log = deps.log ?? silentLog;
    this.metrics = new MonitorMetrics(this.config);
    this.busy = new BusyClock(deps.cpu);
    this.errorWatch = new RateWatch(this.config.rates);
    this.gpuProviders = deps.config.runtime.executionProviders.some((p) => p === 'cuda' || p === 'tensorrt');
    const { drift, outliers, rates } = this.config;
    this.data = new DataMonitor(
      {
        referenceImages: this.config.reference.images,
        windowImages: drift.windowImages,
        evaluateEvery: drift.evaluateEvery,
        clearAfter: drift.clearAfter,
        drift,
        profile: { maxSamples: 2000, maxPoints: 300, neighbours: outliers.neighbours, outlierQuantile: 1 - outliers.referenceShare },
        clusters: {
          radius: outliers.clusterRadius,
          maxClusters: outliers.maxClusters,
          growthWindow: outliers.growthWindow,
          minGrowth: outliers.minGrowth,
          thumbnails: outliers.thumbnails,
        },
        rates,
        seed: this.config.seed,
      },
      reference,
    );
    this.book = new AlertBook(deps.store?.latestStates() ?? []);
    for (const state of this.book.list()) this.metrics.alertsFiring.set({ rule: state.rule }, state.state === 'firing' ? 1 : 0);
    this.observer = { recorded: (prediction) => this.recorded(prediction) };
    this.performance = performanceMetrics(this.metrics.registry);
  }

  /** Every observer of recorded predictions this monitor keeps. */
  get observers(): PredictionObserver[] {
    return [this.observer, this.performance.observer];
  }

  /** For the review routes: an answered task and its model version's updated figures. */
  reviewAnswered(task: ReviewTask, figures: ModelReviewStats): void {
    this.recordReview({ modelVersion: task.modelVersion, overridden: task.answer?.verdict === 'correct' });
    this.setAccuracy({ modelVersion: task.modelVersion, production: figures.production.lineAccuracy ?? undefined, lab: figures.lab.lineAccuracy ?? undefined });
  }

  /** Sends the monitor's log lines (alert transitions, webhook failures) to `log`, e.g. the server's. */
  useLog(log: MonitorLog): void {
    this.log = log;
  }

  /** Starts polling nvidia-smi when configured; without a GPU it registers nothing. */
  async start(): Promise<void> {
    if (this.config.gpu.enabled) this.stopGpu = await watchGpus(this.metrics.registry, this.config.gpu.pollSeconds);
  }

  /**
   * The service with its predictions counted in flight, charged their CPU time and priced, and
   * their failures counted against the error rate.
   */
  instrument(service: PredictionService): PredictionService {
    const { pipeline } = service;
    const queueLabels = pipeline.models.length > 0 ? pipeline.models.map((m) => modelLabel(m)) : [pipeline.name];
    const setQueue = () => {
      const waiting = Math.max(0, this.inFlight - 1);
      for (const model of queueLabels) this.metrics.queueDepth.set({ model }, waiting);
    };
    setQueue();
    return {
      pipeline,
      predict: async (bytes, source, listener) => {
        this.inFlight++;
        this.metrics.inFlight.set({ pipeline: pipeline.name }, this.inFlight);
        setQueue();
        const clock = this.busy.start();
        try {
          const record = await service.predict(bytes, source, listener);
          this.charge(record, this.busy.finish(clock));
          this.countOutcome(false);
          return record;
        } catch (error) {
          this.busy.finish(clock);
          this.countOutcome(true);
          throw error;
        } finally {
          this.inFlight--;
          this.metrics.inFlight.set({ pipeline: pipeline.name }, this.inFlight);
          setQueue();
          this.evaluate(false);
        }
      },
      checkOnly: (bytes) => service.checkOnly(bytes),
    };
  }

  /** One HTTP answer: latency, count, and the error code of an error answer. */
  recordRequest(request: { method: string; route: string; status: number; seconds: number; errorCode: string | null }): void {
    const labels = { method: request.method, route: request.route, status: String(request.status) };
    this.metrics.requestDuration.observe(labels, request.seconds);
    this.metrics.requests.inc(labels);
    if (request.errorCode !== null) {
      this.metrics.errors.inc({ code: request.errorCode });
      this.errorCodes.set(request.errorCode, (this.errorCodes.get(request.errorCode) ?? 0) + 1);
    }
  }

  /** For the review module: one answered review of a model version's output. */
  recordReview(outcome: ReviewOutcome): void {
    const labels = { model_version: outcome.modelVersion };
    this.metrics.reviews.inc(labels);
    if (outcome.overridden) this.metrics.overrides.inc(labels);
    const list = this.reviews.get(outcome.modelVersion) ?? [];
    list.push(outcome.overridden);
    if (list.length > RECENT_REVIEWS) list.shift();
    this.reviews.set(outcome.modelVersion, list);
    const figure = this.reviewFigures().find((f) => f.modelVersion === outcome.modelVersion);
    this.metrics.overrideRate.set(labels, figure?.rate ?? 0);
    this.evaluate(false);
  }

  /** For the review module and evaluation jobs: accuracy of a model version in production and in the lab. */
  setAccuracy(figure: AccuracyFigure): void {
    const merged = { ...this.accuracy.get(figure.modelVersion), ...figure };
    this.accuracy.set(figure.modelVersion, merged);
    if (merged.production !== undefined) this.metrics.accuracy.set({ model_version: figure.modelVersion, source: 'production' }, merged.production);
    if (merged.lab !== undefined) this.metrics.accuracy.set({ model_version: figure.modelVersion, source: 'lab' }, merged.lab);
  }

  /** POST /v1/events: adds `value` to the configured counter `name`. */
  increment(name: string, value = 1): void {
    const counter = this.metrics.custom.get(name);
    if (counter === undefined) {
      const known = [...this.metrics.custom.keys()];
      throw new VisionopsError(
        'UNKNOWN_EVENT',
        `There is no counter "${name}": ${known.length === 0 ? 'none is configured' : `the configured ones are ${known.join(', ')}`}; declare it in monitor.events.`,
        { name, known },
      );
    }
    counter.inc(value);
  }

  /** Every alert that has fired, firing first. */
  alerts(): AlertState[] {
    return this.book.list();
  }

  summary(): MonitorSummary {
    return buildSummary({
      now: this.now(),
      data: this.data,
      recent: this.recent,
      errorCodes: this.errorCodes,
      qualityValues: this.qualityValues,
      reviews: this.reviewFigures(),
      accuracy: [...this.accuracy.values()],
      cost: { currency: this.config.cost.currency, total: this.costTotal },
      alerts: this.alerts(),
      referenceImages: this.config.reference.images,
    });
  }

  /** Resolves once every webhook and thumbnail under way has finished: for tests and shutdown. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Stops polling and waits for background work; the store belongs to whoever opened it. */
  async close(): Promise<void> {
    this.stopGpu();
    await this.settle();
  }

  /** One image seen without the prediction service (scripts, imports): the data side only. */
  observe(observation: MonitorObservation, thumbnail?: () => Promise<string>): ObservationOutcome {
    const outcome = this.data.observe(observation, this.now());
    if (outcome.profileBuilt !== null) {
      this.deps.store?.saveReference(outcome.profileBuilt);
      this.log.info({ images: outcome.profileBuilt.images }, 'reference profile built from production images');
    }
    if (outcome.outlierScore !== null) this.metrics.outlierScore.observe(outcome.outlierScore);
    this.metrics.outlierRate.set(this.data.outlierRate());
    if (outcome.cluster?.wantsThumbnail && thumbnail !== undefined) {
      const cluster = outcome.cluster.id;
      this.track(thumbnail().then((url) => this.data.attachThumbnail(cluster, url)));
    }
    if (outcome.drift !== null) {
      for (const feature of outcome.drift.features) this.metrics.driftPsi.set({ feature: feature.feature }, feature.psi);
      this.metrics.driftMmdZ.set(outcome.drift.descriptor?.z ?? 0);
      this.metrics.driftDetected.set(outcome.drift.drifted ? 1 : 0);
    }
    const shifts = this.data.rateShifts();
    this.metrics.rateShift.set({ kind: 'reject' }, shifts.reject.z);
    this.metrics.rateShift.set({ kind: 'review' }, shifts.review.z);
    this.evaluate(outcome.drift !== null);
    return outcome;
  }

  private recorded(prediction: RecordedPrediction): void {
    const { record, bytes } = prediction;
    const pipeline = record.lineage.pipeline.id;
    this.metrics.images.inc({ pipeline });
    this.metrics.decisions.inc({ pipeline, decision: record.decision });
    for (const [stage, ms] of Object.entries(record.timings)) {
      if (UNTIMED_STAGES.has(stage)) continue;
      const role = STAGE_ROLES[stage];
      const model = role === undefined ? undefined : record.lineage.models.find((m) => m.role === role);
      this.metrics.stageDuration.observe({ pipeline, stage, model: model === undefined ? 'none' : modelLabel(model) }, ms / 1000);
    }
    for (const check of record.quality.checks) {
      this.metrics.qualityScore.observe({ check: check.name }, check.score);
      this.metrics.qualityVerdicts.inc({ check: check.name, verdict: check.verdict });
      const values = this.qualityValues.get(check.name) ?? [];
      values.push(check.score);
      if (values.length > RECENT_PREDICTIONS) values.shift();
      this.qualityValues.set(check.name, values);
    }
    const lines = record.result?.lines ?? [];
    for (const line of lines) this.metrics.confidence.observe({ pipeline, level: 'line' }, line.confidence);
    if (lines.length > 0) this.metrics.confidence.observe({ pipeline, level: 'page_min' }, Math.min(...lines.map((l) => l.confidence)));
    this.observe(observationOf(prediction), () => thumbnailOf(bytes));
  }

  private charge(record: PredictionRecord, cpuSeconds: number): void {
    const gpuSeconds = this.gpuProviders ? Object.entries(record.timings).reduce((sum, [stage, ms]) => sum + (STAGE_ROLES[stage] ? ms / 1000 : 0), 0) : 0;
    const cost = cpuSeconds * this.config.cost.cpuSecond + (gpuSeconds / 3600) * this.config.cost.gpuHour;
    this.costTotal += cost;
    this.metrics.cpuSeconds.inc(cpuSeconds);
    if (gpuSeconds > 0) this.metrics.gpuSeconds.inc(gpuSeconds);
    this.metrics.costTotal.inc({ currency: this.config.cost.currency }, cost);
    this.recent.push({ time: this.now().getTime(), latencyMs: record.timings.total ?? 0, decision: record.decision, cost, error: false });
    if (this.recent.length > RECENT_PREDICTIONS) this.recent.shift();
    const priced = this.recent.filter((p) => !p.error).slice(-100);
    this.metrics.costPerInference.set({ currency: this.config.cost.currency }, priced.reduce((sum, p) => sum + p.cost, 0) / Math.max(1, priced.length));
  }

  private countOutcome(failed: boolean): void {
    this.errorWatch.record(failed);
    this.metrics.rateShift.set({ kind: 'error' }, this.errorWatch.current().z);
    if (failed) {
      this.recent.push({ time: this.now().getTime(), latencyMs: 0, decision: null, cost: 0, error: true });
      if (this.recent.length > RECENT_PREDICTIONS) this.recent.shift();
    }
  }

  /** Override rate of each model version over its last `alerts.overrideRate.window` reviews. */
  private reviewFigures() {
    const window = this.config.alerts.overrideRate.window;
    return [...this.reviews.entries()].map(([modelVersion, list]) => {
      const recent = list.slice(-window);
      return { modelVersion, reviews: recent.length, rate: recent.filter(Boolean).length / Math.max(1, recent.length) };
    });
  }

  private evaluate(driftEvaluated: boolean): void {
    const shifts = this.data.rateShifts();
    const errorShift = this.errorWatch.current();
    const errorWindow = this.config.alerts.errorRate.window;
    const latencies = this.recent.filter((p) => !p.error).map((p) => p.latencyMs);
    const transitions = this.book.apply(
      evaluateRules(this.config.alerts, {
        drift: this.data.lastDrift,
        driftEvaluated,
        driftState: { ...this.data.driftState, clearAfter: this.config.drift.clearAfter },
        outlierRate: { rate: this.data.outlierRate(this.config.alerts.outlierRate.window), images: Math.min(this.data.windowSize, this.config.alerts.outlierRate.window) },
        errorRate: { rate: this.errorWatch.share(errorWindow), events: Math.min(errorShift.events, errorWindow) },
        shifts: { ...shifts, error: errorShift },
        latencies,
        queueDepth: Math.max(0, this.inFlight - 1),
        overrides: this.reviewFigures(),
      }),
      this.now(),
    );
    for (const transition of transitions) {
      this.metrics.alertsFiring.set({ rule: transition.rule }, transition.state === 'firing' ? 1 : 0);
      this.log[transition.state === 'firing' ? 'warn' : 'info']({ rule: transition.rule, details: transition.details }, `alert ${transition.state}: ${transition.message}`);
      this.deps.store?.recordTransition(transition);
      const { webhooks, webhookTimeoutMs } = this.config.alerts;
      if (webhooks.length > 0) this.track(sendWebhooks(webhooks, transition, webhookTimeoutMs, this.log));
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.log.warn({ err: error }, 'monitor background work failed')).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }
}

/**
 * A monitor with its reference: the file `monitor.reference.file` names, else the one built
 * from production images and kept in the store, else none yet (the first images become it).
 */
export async function createMonitor(deps: MonitorDeps): Promise<Monitor> {
  const file = deps.config.monitor.reference.file;
  const reference = file !== null ? parseReferenceProfile(readReferenceFile(file), file) : (deps.store?.loadReference() ?? null);
  const monitor = new Monitor(deps, reference);
  await monitor.start();
  return monitor;
}

function readReferenceFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new VisionopsError(
      'INVALID_CONFIG',
      `The reference profile ${file} cannot be read (${(error as Error).message}): write one with \`visionops profile <folder> --out ${file}\`, or set monitor.reference.file to null to build it from the first production images.`,
      { file },
    );
  }
}

function modelLabel(model: ModelLineage): string {
  return `${model.id}@${model.version}`;
}

/** A small JPEG of the image as a data URL, for the dashboard's clusters. */
async function thumbnailOf(bytes: Uint8Array): Promise<string> {
  const jpeg = await sharp(bytes).rotate().resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside' }).jpeg({ quality: 60 }).toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}
