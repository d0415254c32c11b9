import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MonitorConfig } from './config.js';

/** Gate scores live on different scales (pixels, levels, ratios): buckets span all of them. */
const QUALITY_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.15, 0.18, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2, 5, 10, 25, 50, 100, 150, 200, 250, 400, 800, 1600, 3200];
/** Recognition confidence crowds near 1: fine buckets there, where the review threshold sits. */
const CONFIDENCE_BUCKETS = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 1];
const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];
const OUTLIER_BUCKETS = [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 40];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32];
const QUEUE_DELAY_BUCKETS = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1];

/**
 * Every Prometheus metric of one server, in its own registry (several servers in one process,
 * as in the tests, do not share counters): the one module that declares instruments. All names
 * start with `visionops_`.
 */
export class MonitorMetrics {
  readonly registry = new Registry();
  readonly stageDuration: Histogram<'pipeline' | 'stage' | 'model'>;
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly images: Counter<'pipeline'>;
  readonly inFlight: Gauge<'pipeline'>;
  readonly queueDepth: Gauge<'model'>;
  readonly errors: Counter<'code'>;
  readonly cancelled: Counter<'reason'>;
  readonly shed: Counter;
  readonly qualityScore: Histogram<'check'>;
  readonly qualityVerdicts: Counter<'check' | 'verdict'>;
  readonly decisions: Counter<'pipeline' | 'decision'>;
  readonly confidence: Histogram<'pipeline' | 'level'>;
  readonly driftPsi: Gauge<'feature'>;
  readonly driftMmdZ: Gauge;
  readonly driftDetected: Gauge;
  readonly outlierScore: Histogram;
  readonly outlierRate: Gauge;
  readonly rateShift: Gauge<'kind'>;
  readonly predictionDriftPsi: Gauge<'pipeline' | 'feature'>;
  readonly unsureShare: Gauge<'pipeline' | 'window'>;
  readonly reviews: Counter<'model_version'>;
  readonly overrides: Counter<'model_version'>;
  readonly overrideRate: Gauge<'model_version'>;
  readonly accuracy: Gauge<'model_version' | 'source'>;
  readonly costPerInference: Gauge<'currency'>;
  readonly costTotal: Counter<'currency'>;
  readonly cpuSeconds: Counter;
  readonly gpuSeconds: Counter;
  readonly alertsFiring: Gauge<'rule'>;
  readonly batchSize: Histogram<'model'>;
  readonly batchQueueDelay: Histogram<'model'>;
  readonly cacheHits: Counter<'kind'>;
  readonly cascadeLines: Counter;
  readonly cascadeEarlyExits: Counter;
  readonly remoteDuration: Histogram<'endpoint' | 'model' | 'outcome'>;
  readonly remoteUp: Gauge<'endpoint' | 'model'>;
  readonly remoteOutstanding: Gauge<'endpoint' | 'model'>;
  readonly modelRuns: Counter<'model' | 'version' | 'stage' | 'decision'>;
  readonly modelRunErrors: Counter<'model' | 'version' | 'stage'>;
  readonly modelRunDuration: Histogram<'model' | 'version' | 'stage'>;
  readonly shadowAgreement: Histogram<'model' | 'version'>;
  readonly shadowDropped: Counter<'model' | 'version'>;
  readonly jobQueueItems: Gauge<'state'>;
  readonly jobQueueOldestSeconds: Gauge;
  readonly jobQueueRate: Gauge;
  readonly custom = new Map<string, Counter>();

  constructor(config: MonitorConfig) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'visionops_' });
    this.stageDuration = new Histogram({
      name: 'visionops_stage_duration_seconds',
      help: 'Time spent in each stage of a prediction (decode, gate, detection, recognition...), by pipeline and model.',
      labelNames: ['pipeline', 'stage', 'model'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'visionops_request_duration_seconds',
      help: 'End-to-end HTTP request latency, from the request received to the answer sent.',
      labelNames: ['method', 'route', 'status'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.requests = new Counter({ name: 'visionops_requests_total', help: 'HTTP requests answered.', labelNames: ['method', 'route', 'status'], registers });
    this.images = new Counter({ name: 'visionops_images_total', help: 'Images processed and recorded.', labelNames: ['pipeline'], registers });
    this.inFlight = new Gauge({ name: 'visionops_in_flight', help: 'Predictions being processed now.', labelNames: ['pipeline'], registers });
    this.queueDepth = new Gauge({
      name: 'visionops_queue_depth',
      help: 'Predictions admitted and waiting for a model, beyond the one it runs at a time.',
      labelNames: ['model'],
      registers,
    });
    this.errors = new Counter({ name: 'visionops_errors_total', help: 'Error answers, by stable error code.', labelNames: ['code'], registers });
    this.cancelled = new Counter({
      name: 'visionops_predictions_cancelled_total',
      help: 'Predictions stopped between stages and not recorded: reason="client_gone" (the connection closed first) or "shutdown" (abandoned at the shutdown deadline).',
      labelNames: ['reason'],
      registers,
    });
    this.shed = new Counter({ name: 'visionops_predictions_shed_total', help: 'Predictions refused with 503 OVERLOADED because server.admission was full.', registers });
    this.qualityScore = new Histogram({
      name: 'visionops_quality_score',
      help: 'Quality gate scores, per check (resolution in pixels, exposure in luma levels, blur and information as ratios).',
      labelNames: ['check'],
      buckets: QUALITY_BUCKETS,
      registers,
    });
    this.qualityVerdicts = new Counter({ name: 'visionops_quality_verdicts_total', help: 'Gate verdicts, per check.', labelNames: ['check', 'verdict'], registers });
    this.decisions = new Counter({ name: 'visionops_decisions_total', help: 'Decisions: accept, review, reject.', labelNames: ['pipeline', 'decision'], registers });
    this.confidence = new Histogram({
      name: 'visionops_confidence',
      help: 'Model confidence: of each line read (level="line") and of the least sure line of each page (level="page_min").',
      labelNames: ['pipeline', 'level'],
      buckets: CONFIDENCE_BUCKETS,
      registers,
    });
    this.driftPsi = new Gauge({ name: 'visionops_drift_psi', help: 'Population stability index of each feature, last window against the reference.', labelNames: ['feature'], registers });
    this.driftMmdZ = new Gauge({ name: 'visionops_drift_mmd_z', help: 'MMD of the image descriptor, last window against the reference, in permutation-null standard deviations.', registers });
    this.driftDetected = new Gauge({ name: 'visionops_drift_detected', help: '1 when the last drift evaluation found drift.', registers });
    this.outlierScore = new Histogram({
      name: 'visionops_outlier_score',
      help: 'Distance of each image from the reference in descriptor space; about 1% of reference images exceed the outlier threshold.',
      buckets: OUTLIER_BUCKETS,
      registers,
    });
    this.outlierRate = new Gauge({ name: 'visionops_outlier_rate', help: 'Share of outliers among the images of the drift window.', registers });
    this.predictionDriftPsi = new Gauge({ name: 'visionops_prediction_drift_psi', help: 'PSI of a classification or detection pipeline\'s predictions (label, confidence, box_count, box_area), recent window against its first predictions.', labelNames: ['pipeline', 'feature'], registers });
    this.unsureShare = new Gauge({ name: 'visionops_unsure_share', help: 'Share of predictions the model was unsure of, in the reference and the recent window: a rise is how new categories show.', labelNames: ['pipeline', 'window'], registers });
    this.rateShift = new Gauge({ name: 'visionops_rate_shift_z', help: 'Sudden change of the reject, review and error rates, as a binomial z-score.', labelNames: ['kind'], registers });
    this.reviews = new Counter({ name: 'visionops_reviews_total', help: 'Human reviews answered, per model version.', labelNames: ['model_version'], registers });
    this.overrides = new Counter({ name: 'visionops_overrides_total', help: 'Reviews where a person changed the model output, per model version.', labelNames: ['model_version'], registers });
    this.overrideRate = new Gauge({ name: 'visionops_override_rate', help: 'Share of recent reviews that overrode the model, per model version.', labelNames: ['model_version'], registers });
    this.accuracy = new Gauge({ name: 'visionops_accuracy', help: 'Accuracy per model version: measured from reviews (source="production") and on the lab test set (source="lab").', labelNames: ['model_version', 'source'], registers });
    this.costPerInference = new Gauge({ name: 'visionops_cost_per_inference', help: 'Mean cost of one prediction over the recent ones, from the configured prices and measured busy time.', labelNames: ['currency'], registers });
    this.costTotal = new Counter({ name: 'visionops_inference_cost_total', help: 'Cost of all predictions, from the configured prices and measured busy time.', labelNames: ['currency'], registers });
    this.cpuSeconds = new Counter({ name: 'visionops_inference_cpu_seconds_total', help: 'CPU time spent in predictions (process CPU shared among the predictions in flight).', registers });
    this.gpuSeconds = new Counter({ name: 'visionops_inference_gpu_seconds_total', help: 'Wall time of model stages on a GPU execution provider.', registers });
    this.alertsFiring = new Gauge({ name: 'visionops_alert_firing', help: '1 while an alert rule fires.', labelNames: ['rule'], registers });
    this.batchSize = new Histogram({ name: 'visionops_batch_size', help: 'Requests per model run formed by the dynamic batcher.', labelNames: ['model'], buckets: BATCH_BUCKETS, registers });
    this.batchQueueDelay = new Histogram({
      name: 'visionops_batch_queue_delay_seconds',
      help: 'Time a request waited in the dynamic batcher before its batch ran.',
      labelNames: ['model'],
      buckets: QUEUE_DELAY_BUCKETS,
      registers,
    });
    this.cacheHits = new Counter({ name: 'visionops_cache_hits_total', help: 'Predictions answered from the result cache.', labelNames: ['kind'], registers });
    this.cascadeLines = new Counter({ name: 'visionops_cascade_lines_total', help: 'Lines read by the recognition cascade.', registers });
    this.cascadeEarlyExits = new Counter({ name: 'visionops_cascade_early_exits_total', help: 'Lines the cascade kept from its fast model.', registers });
    this.remoteDuration = new Histogram({
      name: 'visionops_remote_inference_duration_seconds',
      help: 'Attempts on remote OIP v2 servers (runtime.remote), by endpoint, model and outcome: ok, error or timeout; count the non-ok ones for the error rate.',
      labelNames: ['endpoint', 'model', 'outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.remoteUp = new Gauge({ name: 'visionops_remote_endpoint_up', help: '1 while a remote OIP v2 endpoint is in rotation, 0 once a health check or a refused connection took it out.', labelNames: ['endpoint', 'model'], registers });
    this.remoteOutstanding = new Gauge({ name: 'visionops_remote_outstanding', help: 'Requests sent to a remote OIP v2 endpoint and not answered yet.', labelNames: ['endpoint', 'model'], registers });
    this.modelRuns = new Counter({
      name: 'visionops_model_runs_total',
      help: 'Predictions each model version took part in, by lifecycle stage (production, canary, shadow) and decision.',
      labelNames: ['model', 'version', 'stage', 'decision'],
      registers,
    });
    this.modelRunErrors = new Counter({ name: 'visionops_model_run_errors_total', help: 'Predictions that failed in the models, by model version and stage.', labelNames: ['model', 'version', 'stage'], registers });
    this.modelRunDuration = new Histogram({
      name: 'visionops_model_run_duration_seconds',
      help: 'Whole prediction time (shadows: their run) by model version and stage.',
      labelNames: ['model', 'version', 'stage'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.shadowAgreement = new Histogram({
      name: 'visionops_shadow_agreement',
      help: "A shadow version's agreement with the answer given on the same image (1 - CER for documents).",
      labelNames: ['model', 'version'],
      buckets: [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1],
      registers,
    });
    this.shadowDropped = new Counter({ name: 'visionops_shadow_dropped_total', help: 'Shadow runs dropped because lifecycle.shadow.concurrency were already running.', labelNames: ['model', 'version'], registers });
    this.jobQueueItems = new Gauge({
      name: 'visionops_job_queue_items',
      help: 'Images in the job queue (all API processes and workers sharing its Redis), by state: waiting, active, delayed (a retry backing off), dead_lettered.',
      labelNames: ['state'],
      registers,
    });
    this.jobQueueOldestSeconds = new Gauge({ name: 'visionops_job_queue_oldest_waiting_seconds', help: 'Age of the oldest image waiting in the job queue; 0 when none waits.', registers });
    this.jobQueueRate = new Gauge({ name: 'visionops_job_queue_processed_per_second', help: 'Images recorded per second by all workers, between the last two readings of the queue.', registers });
    for (const event of config.events) {
      this.custom.set(event.name, new Counter({ name: `visionops_${event.name}_total`, help: event.help, registers }));
    }
  }
}
