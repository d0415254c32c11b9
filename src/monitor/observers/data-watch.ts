import { DataMonitor, type ObservationOutcome } from '../../core/monitor/data-monitor.js';
import type { MonitorObservation } from '../../core/monitor/features.js';
import type { ReferenceProfile } from '../../core/monitor/profile.js';
import type { IngestConfig } from '../../image/config.js';
import { renderJpeg } from '../../image/render.js';
import type { PredictionObserver, RecordedPrediction } from '../../pipeline/runner.js';
import type { MonitorStore } from '../../store/store.js';
import type { MonitorConfig } from '../config.js';
import type { MonitorMetrics } from '../metrics.js';
import { observationOf } from '../observation.js';

const THUMBNAIL_SIDE = 96;

export interface DataWatchDeps {
  config: MonitorConfig;
  metrics: MonitorMetrics;
  /** Ingest's limits: thumbnails decode the kept bytes within them. */
  limits: Pick<IngestConfig, 'maxPixels'>;
  /** Where the reference built from production images is kept. */
  store?: MonitorStore;
  now: () => Date;
  /** Background work (thumbnails) the monitor waits for on `settle`. */
  track(work: Promise<unknown>): void;
  /** Told once the reference is built from production images. */
  onReference(profile: ReferenceProfile): void;
}

/**
 * Drift and outliers: every recorded prediction's observation (gate scores, output, image
 * descriptor) against the reference, with the outlier clusters' thumbnails and the drift gauges.
 */
export class DataWatch implements PredictionObserver {
  readonly data: DataMonitor;
  /** Told of each observation's outcome, after the gauges are set: the monitor evaluates its alerts then. */
  onObserved: (outcome: ObservationOutcome) => void = () => {};

  constructor(
    private readonly deps: DataWatchDeps,
    reference: ReferenceProfile | null,
  ) {
    const { config } = deps;
    const { drift, outliers, rates } = config;
    this.data = new DataMonitor(
      {
        referenceImages: config.reference.images,
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
        seed: config.seed,
      },
      reference,
    );
  }

  recorded(prediction: RecordedPrediction): void {
    this.observe(observationOf(prediction), () => this.thumbnail(prediction.bytes));
  }

  /** One image's observation, from a prediction or from outside the service (scripts, imports). */
  observe(observation: MonitorObservation, thumbnail?: () => Promise<string>): ObservationOutcome {
    const { metrics, store } = this.deps;
    const outcome = this.data.observe(observation, this.deps.now());
    if (outcome.profileBuilt !== null) {
      if (store !== undefined) this.deps.track(store.saveReference(outcome.profileBuilt));
      this.deps.onReference(outcome.profileBuilt);
    }
    if (outcome.outlierScore !== null) metrics.outlierScore.observe(outcome.outlierScore);
    metrics.outlierRate.set(this.data.outlierRate());
    if (outcome.cluster?.wantsThumbnail && thumbnail !== undefined) {
      const cluster = outcome.cluster.id;
      this.deps.track(thumbnail().then((url) => this.data.attachThumbnail(cluster, url)));
    }
    if (outcome.drift !== null) {
      for (const feature of outcome.drift.features) metrics.driftPsi.set({ feature: feature.feature }, feature.psi);
      metrics.driftMmdZ.set(outcome.drift.descriptor?.z ?? 0);
      metrics.driftDetected.set(outcome.drift.drifted ? 1 : 0);
    }
    const shifts = this.data.rateShifts();
    metrics.rateShift.set({ kind: 'reject' }, shifts.reject.z);
    metrics.rateShift.set({ kind: 'review' }, shifts.review.z);
    this.onObserved(outcome);
    return outcome;
  }

  /** A small JPEG of the image as a data URL, for the dashboard's clusters. */
  private async thumbnail(bytes: Uint8Array): Promise<string> {
    const jpeg = await renderJpeg(bytes, this.deps.limits, { within: THUMBNAIL_SIDE, quality: 60 });
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  }
}
