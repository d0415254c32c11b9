import { UnusualClusters, type ClusterSettings, type ClusterSummary } from './clusters.js';
import { evaluateDrift, featuresTooSparseToJudge, type DriftReport, type DriftThresholds, type UnjudgedFeature } from './drift.js';
import { scalarFeatures, type MonitorObservation } from './features.js';
import { standardise } from './outlier.js';
import { buildReferenceProfile, outlierScore, type ProfileOptions, type ReferenceProfile } from './profile.js';
import { seededRandom } from './random.js';
import { RateWatch, type RateShift, type RateShiftSettings } from './rate-shift.js';

export interface DataMonitorSettings {
  /** Without a reference profile, the first this many images become it. */
  referenceImages: number;
  /** Drift is judged on the last this many images... */
  windowImages: number;
  /** ...once every this many images. */
  evaluateEvery: number;
  /** Drift found once stays on until this many evaluations in a row find none, so a shift at the threshold does not flap. */
  clearAfter: number;
  drift: DriftThresholds;
  profile: Omit<ProfileOptions, 'source' | 'createdAt'>;
  clusters: ClusterSettings;
  rates: RateShiftSettings;
  /** Seeds the permutation tests, so one stream always gives one answer. */
  seed: number;
}

/** What the monitor concluded about one image. */
export interface ObservationOutcome {
  /** 1 for the first image seen. */
  index: number;
  /** Null while the reference is still being collected. */
  outlierScore: number | null;
  outlier: boolean;
  /** The cluster of unusual images it joined, and whether that cluster wants its thumbnail. */
  cluster: { id: number; wantsThumbnail: boolean } | null;
  /** Set when this image completed a drift evaluation. */
  drift: DriftReport | null;
  /** Set when this image completed the reference collected from production. */
  profileBuilt: ReferenceProfile | null;
}

/** One point of the drift history, for the dashboard and the gauges. */
export interface DriftPoint {
  index: number;
  time: string;
  drifted: boolean;
  /** The largest PSI of any feature, and which. */
  maxPsi: number;
  feature: string | null;
  mmdZ: number | null;
  /** PSI of every feature judged. */
  psi: Record<string, number>;
}

interface WindowEntry {
  features: Record<string, number>;
  descriptor: number[];
  outlier: boolean;
}

const HISTORY = 240;

/**
 * The data side of monitoring, free of I/O so the browser, the server and the measurement script
 * run the same code: drift windows against a reference profile, outlier scores, clusters of
 * unusual images and sudden changes in the reject and review rates.
 */
export class DataMonitor {
  private profile: ReferenceProfile | null;
  private readonly warmup: MonitorObservation[] = [];
  private readonly window: WindowEntry[] = [];
  private readonly random: () => number;
  private readonly clusters: UnusualClusters;
  private readonly rejects: RateWatch;
  private readonly reviews: RateWatch;
  private seen = 0;
  private latest: DriftReport | null = null;
  private drifting = false;
  private cleanEvaluations = 0;
  private readonly history: DriftPoint[] = [];

  constructor(
    private readonly settings: DataMonitorSettings,
    profile: ReferenceProfile | null,
  ) {
    this.profile = profile;
    this.random = seededRandom(settings.seed);
    this.clusters = new UnusualClusters(settings.clusters);
    this.rejects = new RateWatch(settings.rates);
    this.reviews = new RateWatch(settings.rates);
  }

  get reference(): ReferenceProfile | null {
    return this.profile;
  }

  /** The reference's scalar features the drift tests skip for want of values; none while there is no reference. */
  get unjudgedFeatures(): UnjudgedFeature[] {
    return this.profile === null ? [] : featuresTooSparseToJudge(this.profile, this.settings.drift.minImages);
  }

  /** `monitor.drift.minImages`: fewer values than this, in the window or the reference, are not judged. */
  get driftMinImages(): number {
    return this.settings.drift.minImages;
  }

  /** The last drift evaluation, null before the first. */
  get lastDrift(): DriftReport | null {
    return this.latest;
  }

  /** Whether drift is on (found, and not yet absent for `clearAfter` evaluations in a row), and for how many evaluations it has been absent. */
  get driftState(): { active: boolean; cleanEvaluations: number } {
    return { active: this.drifting, cleanEvaluations: this.cleanEvaluations };
  }

  get driftHistory(): readonly DriftPoint[] {
    return this.history;
  }

  get images(): number {
    return this.seen;
  }

  observe(observation: MonitorObservation, now: Date): ObservationOutcome {
    const index = ++this.seen;
    this.rejects.record(observation.decision === 'reject');
    this.reviews.record(observation.decision === 'review');
    const outcome: ObservationOutcome = { index, outlierScore: null, outlier: false, cluster: null, drift: null, profileBuilt: null };

    if (this.profile === null) {
      this.warmup.push(observation);
      if (this.warmup.length >= this.settings.referenceImages) {
        this.profile = buildReferenceProfile(this.warmup, {
          ...this.settings.profile,
          source: `first ${this.warmup.length} production images`,
          createdAt: now.toISOString(),
        });
        this.warmup.length = 0;
        outcome.profileBuilt = this.profile;
      }
      return outcome;
    }

    const profile = this.profile;
    const score = outlierScore(profile, observation.descriptor);
    const outlier = score > profile.descriptor.outlierThreshold;
    outcome.outlierScore = score;
    outcome.outlier = outlier;
    if (outlier || observation.decision !== 'accept') {
      const reason = outlier ? 'outlier' : observation.decision;
      const filed = this.clusters.add(compressed(standardise(observation.descriptor, profile.descriptor)), index, reason);
      outcome.cluster = { id: filed.cluster, wantsThumbnail: filed.wantsThumbnail };
    }

    this.window.push({ features: scalarFeatures(observation), descriptor: observation.descriptor, outlier });
    if (this.window.length > this.settings.windowImages) this.window.shift();
    if (index % this.settings.evaluateEvery === 0 && this.window.length >= this.settings.drift.minImages) {
      const report = evaluateDrift(
        profile,
        { features: this.window.map((w) => w.features), descriptors: this.window.map((w) => w.descriptor) },
        this.settings.drift,
        this.random,
      );
      this.latest = report;
      outcome.drift = report;
      this.cleanEvaluations = report.drifted ? 0 : this.cleanEvaluations + 1;
      if (report.drifted) this.drifting = true;
      else if (this.cleanEvaluations >= this.settings.clearAfter) this.drifting = false;
      this.history.push({
        index,
        time: now.toISOString(),
        drifted: report.drifted,
        maxPsi: report.features[0]?.psi ?? 0,
        feature: report.features[0]?.feature ?? null,
        mmdZ: report.descriptor?.z ?? null,
        psi: Object.fromEntries(report.features.map((f) => [f.feature, f.psi])),
      });
      if (this.history.length > HISTORY) this.history.shift();
    }
    return outcome;
  }

  attachThumbnail(cluster: number, thumbnail: string): void {
    this.clusters.attachThumbnail(cluster, thumbnail);
  }

  /** Share of outliers among the last `count` images scored. */
  outlierRate(count = this.settings.windowImages): number {
    const recent = this.window.slice(-count);
    return recent.length === 0 ? 0 : recent.filter((w) => w.outlier).length / recent.length;
  }

  /** Images in the outlier window. */
  get windowSize(): number {
    return this.window.length;
  }

  clusterSummary(): ClusterSummary[] {
    return this.clusters.summary(this.seen);
  }

  rateShifts(): { reject: RateShift; review: RateShift } {
    return { reject: this.rejects.current(), review: this.reviews.current() };
  }
}

/**
 * sign(x) ln(1 + |x|) of each standardised number: unusual images lie tens of standard deviations
 * out, where two of the same new kind still differ by many; compressed, images far out in the
 * same direction fall together and apart from those out in another.
 */
function compressed(point: number[]): number[] {
  return point.map((v) => Math.sign(v) * Math.log1p(Math.abs(v)));
}
