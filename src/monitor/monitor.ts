import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { isVisionopsError, VisionopsError } from '../core/errors.js';
import type { AlertState, RuleVerdict } from '../core/monitor/alerts.js';
import type { DataMonitor, ObservationOutcome } from '../core/monitor/data-monitor.js';
import { describeUnjudged } from '../core/monitor/drift.js';
import type { MonitorObservation } from '../core/monitor/features.js';
import type { ReferenceProfile } from '../core/monitor/profile.js';
import { RateWatch } from '../core/monitor/rate-shift.js';
import { buildSummary, type MonitorSummary } from '../core/monitor/summary.js';
import type { ReviewTask } from '../core/records/review.js';
import type { PredictionObserver } from '../pipeline/runner.js';
import type { PredictionService } from '../pipeline/service.js';
import type { QueueReading } from '../queue/watch.js';
import type { ModelReviewStats } from '../review/stats.js';
import type { BatchListener } from '../runtime/batcher.js';
import type { RemoteListener } from '../runtime/remote/pool.js';
import type { MonitorStore } from '../store/store.js';
import type { JobQueueInputs } from './alert-rules.js';
import { Alerting } from './alerting.js';
import { BusyClock, type CpuReader } from './busy-time.js';
import type { MonitorConfig } from './config.js';
import { watchGpus } from './gpu.js';
import { silentLog, type MonitorLog } from './log.js';
import { MonitorMetrics } from './metrics.js';
import { remoteMetrics } from './observers/remote.js';
import { CostLedger } from './observers/cost.js';
import { DataWatch } from './observers/data-watch.js';
import { performanceObserver } from './observers/performance.js';
import { PredictionDriftWatch } from './observers/prediction-drift.js';
import { modelLabel, PredictionMetrics } from './observers/predictions.js';
import { ReviewStatistics, type AccuracyFigure, type ReviewOutcome } from './observers/reviews.js';
import { parseReferenceProfile } from './reference-file.js';

export interface MonitorDeps {
  config: Config;
  /** Alert transitions and the production-built reference are kept here; without it, in memory only. */
  store?: MonitorStore;
  now?: () => Date;
  cpu?: CpuReader;
  log?: MonitorLog;
}

/**
 * The monitor of one server: its observers of recorded predictions (traffic metrics, performance
 * counters, drift and outliers), the cost ledger and the error watch around each prediction, the
 * review statistics, and the alert rules over all of them, with the dashboard's summary.
 *
 * @example
 * const monitor = await createMonitor({ config, store: stores.monitor });
 * const service = monitor.instrument(createPredictionService({ config, pipeline, store, blobs, observers: monitor.observers }));
 */
export class Monitor {
  readonly metrics: MonitorMetrics;
  /** Every observer of recorded predictions this monitor keeps, in the order they are told. */
  readonly observers: PredictionObserver[];
  /** For the pipelines' batchers: each batch's size and queue delays. */
  readonly onBatch: BatchListener;
  /** For the pipelines' remote backends: each attempt's latency and outcome, and each endpoint's health. */
  readonly onRemote: RemoteListener;
  private readonly config: MonitorConfig;
  private readonly busy: BusyClock;
  private readonly now: () => Date;
  private log: MonitorLog;
  private readonly traffic: PredictionMetrics;
  private readonly watch: DataWatch;
  private readonly cost: CostLedger;
  private readonly reviews: ReviewStatistics;
  private readonly alerting: Alerting;
  private readonly errorWatch: RateWatch;
  /** Prediction drift and new-category emergence of classification and detection pipelines. */
  readonly predictionDrift: PredictionDriftWatch;
  private readonly errorCodes = new Map<string, number>();
  private readonly pending = new Set<Promise<unknown>>();
  private inFlight = 0;
  private jobQueue: JobQueueInputs | null = null;
  private readonly deadLetterReadings: { at: number; count: number }[] = [];
  private stopGpu: () => void = () => {};

  constructor(deps: MonitorDeps, reference: ReferenceProfile | null, restoredAlerts: AlertState[] = []) {
    const config = deps.config.monitor;
    this.config = config;
    this.now = deps.now ?? (() => new Date());
    this.log = deps.log ?? silentLog;
    this.metrics = new MonitorMetrics(config);
    this.busy = new BusyClock(deps.cpu);
    this.errorWatch = new RateWatch(config.rates);
    const track = (work: Promise<unknown>) => this.track(work);
    const gpu = deps.config.runtime.executionProviders.some((p) => p === 'cuda' || p === 'tensorrt');
    this.traffic = new PredictionMetrics(this.metrics);
    this.cost = new CostLedger(config.cost, this.metrics, gpu, this.now);
    this.reviews = new ReviewStatistics(this.metrics, config.alerts.overrideRate.window);
    this.alerting = new Alerting({ config: config.alerts, metrics: this.metrics, store: deps.store, restored: restoredAlerts, log: () => this.log, track });
    this.watch = new DataWatch(
      {
        config,
        metrics: this.metrics,
        limits: deps.config.ingest,
        store: deps.store,
        now: this.now,
        track,
        onReference: (profile) => {
          this.log.info({ images: profile.images }, 'reference profile built from production images');
          const unjudged = describeUnjudged(this.data.unjudgedFeatures, this.data.driftMinImages);
          if (unjudged !== null) this.log.warn({ features: this.data.unjudgedFeatures.map((u) => u.feature) }, unjudged);
        },
      },
      reference,
    );
    this.watch.onObserved = (outcome) => this.evaluate(outcome.drift !== null);
    const performance = performanceObserver(this.metrics);
    this.onBatch = performance.onBatch;
    this.onRemote = remoteMetrics(this.metrics);
    this.predictionDrift = new PredictionDriftWatch(this.metrics, config.alerts.predictionDrift);
    // Before the data watch, whose observation evaluates the alerts.
    this.observers = [this.traffic, performance, this.predictionDrift, this.watch];
  }

  /** The drift and outlier state, for the dashboard and scripts. */
  get data(): DataMonitor {
    return this.watch.data;
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
    const setInFlight = (change: number) => {
      this.inFlight += change;
      this.metrics.inFlight.set({ pipeline: pipeline.name }, this.inFlight);
      setQueue();
    };
    setQueue();
    return {
      pipeline,
      scope: service.scope,
      predict: async (bytes, source, listener, options) => {
        setInFlight(1);
        const clock = this.busy.start();
        try {
          const record = await service.predict(bytes, source, listener, options);
          this.cost.charge(record, this.busy.finish(clock));
          this.countOutcome(false);
          return record;
        } catch (error) {
          this.busy.finish(clock);
          // A prediction its client abandoned did not fail.
          if (!(isVisionopsError(error) && error.code === 'CANCELLED')) this.countOutcome(true);
          throw error;
        } finally {
          setInFlight(-1);
          this.evaluate(false);
        }
      },
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
    this.reviews.reviewed(outcome);
    this.evaluate(false);
  }

  /** For the review module and evaluation jobs: accuracy of a model version in production and in the lab. */
  setAccuracy(figure: AccuracyFigure): void {
    this.reviews.measured(figure);
  }

  /** For the review routes: an answered task and its model version's updated figures. */
  reviewAnswered(task: ReviewTask, figures: ModelReviewStats): void {
    this.recordReview({ modelVersion: task.modelVersion, overridden: task.answer?.verdict === 'correct' });
    this.setAccuracy({ modelVersion: task.modelVersion, production: figures.production.lineAccuracy ?? undefined, lab: figures.lab.lineAccuracy ?? undefined });
  }

  /** A reading of the job queue (src/queue/watch.ts): its gauges, and the job alert rules judged on it. */
  observeQueue(reading: QueueReading): void {
    for (const state of ['waiting', 'active', 'delayed'] as const) this.metrics.jobQueueItems.set({ state }, reading[state]);
    this.metrics.jobQueueItems.set({ state: 'dead_lettered' }, reading.deadLettered);
    this.metrics.jobQueueOldestSeconds.set(reading.oldestWaitingSeconds);
    if (reading.perSecond !== null) this.metrics.jobQueueRate.set(reading.perSecond);
    // Dead letters are kept for days: the rule judges how many appeared within its window.
    const at = this.now().getTime();
    const windowMs = this.config.alerts.jobDeadLetters.windowSeconds * 1000;
    this.deadLetterReadings.push({ at, count: reading.deadLettered });
    while (this.deadLetterReadings.length > 1 && this.deadLetterReadings[1].at <= at - windowMs) this.deadLetterReadings.shift();
    this.jobQueue = {
      waiting: reading.waiting,
      oldestWaitingSeconds: reading.oldestWaitingSeconds,
      recentDeadLetters: Math.max(0, reading.deadLettered - this.deadLetterReadings[0].count),
    };
    this.evaluate(false);
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

  /** Raises (or resolves) alerts decided elsewhere, such as the lifecycle's automatic rollback: logged, kept and sent to the webhooks like the rules' own. */
  raise(verdicts: RuleVerdict[]): void {
    this.alerting.apply(verdicts, this.now());
  }

  /** Every alert that has fired, firing first. */
  alerts(): AlertState[] {
    return this.alerting.list();
  }

  summary(): MonitorSummary {
    const predictionDrift = this.predictionDrift.statuses();
    const summary = buildSummary({
      now: this.now(),
      data: this.data,
      recent: this.cost.recent,
      errorCodes: this.errorCodes,
      qualityValues: this.traffic.qualityValues,
      reviews: this.reviews.overrides(),
      accuracy: this.reviews.accuracy(),
      cost: { currency: this.config.cost.currency, total: this.cost.total },
      alerts: this.alerts(),
      referenceImages: this.config.reference.images,
    });
    return predictionDrift.length === 0 ? summary : { ...summary, predictionDrift };
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
    return this.watch.observe(observation, thumbnail);
  }

  private countOutcome(failed: boolean): void {
    this.errorWatch.record(failed);
    this.metrics.rateShift.set({ kind: 'error' }, this.errorWatch.current().z);
    if (failed) this.cost.failed();
  }

  private evaluate(driftEvaluated: boolean): void {
    const { alerts, drift } = this.config;
    const data = this.data;
    const errorShift = this.errorWatch.current();
    this.alerting.evaluate(
      {
        drift: data.lastDrift,
        driftEvaluated,
        driftState: { ...data.driftState, clearAfter: drift.clearAfter },
        outlierRate: { rate: data.outlierRate(alerts.outlierRate.window), images: Math.min(data.windowSize, alerts.outlierRate.window) },
        errorRate: { rate: this.errorWatch.share(alerts.errorRate.window), events: Math.min(errorShift.events, alerts.errorRate.window) },
        shifts: { ...data.rateShifts(), error: errorShift },
        latencies: this.cost.latencies(),
        queueDepth: Math.max(0, this.inFlight - 1),
        jobs: this.jobQueue,
        overrides: this.reviews.overrides(),
        predictionDrift: this.predictionDrift.statuses(),
      },
      this.now(),
    );
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
  const saved = await savedState(deps);
  const reference = file !== null ? parseReferenceProfile(readReferenceFile(file), file) : saved.reference;
  const monitor = new Monitor({ ...deps, store: saved.store }, reference, saved.alerts);
  await monitor.start();
  return monitor;
}

/**
 * What an earlier run kept: the reference built from production and each rule's latest state. A
 * store that is down at start must not stop the server (it starts unready and serves once the
 * store answers), so the monitor then starts empty, and never saves a reference over the one it
 * could not read.
 */
async function savedState({ store, log = silentLog }: MonitorDeps): Promise<{ reference: ReferenceProfile | null; alerts: AlertState[]; store: MonitorStore | undefined }> {
  if (store === undefined) return { reference: null, alerts: [], store };
  try {
    const [reference, alerts] = await Promise.all([store.loadReference(), store.latestStates()]);
    return { reference, alerts, store };
  } catch (error) {
    if (!isVisionopsError(error) || error.code !== 'STORE_UNAVAILABLE') throw error;
    log.warn({ err: error }, 'monitor state cannot be read at start: alerts and the reference start empty, and no reference is saved this run');
    return { reference: null, alerts: [], store: { ...store, saveReference: async () => {} } };
  }
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
