import type { AlertState } from './alerts.js';
import type { ClusterSummary } from './clusters.js';
import type { DataMonitor, DriftPoint } from './data-monitor.js';
import { describeUnjudged, type UnjudgedFeature } from './drift.js';
import { binShares, quantileEdges, quantileOf, sorted } from './statistics.js';
import type { PredictionDriftStatus } from './prediction-drift.js';

/** One recent prediction, as the dashboard's time series read it. */
export interface PredictionPoint {
  /** Unix milliseconds. */
  time: number;
  latencyMs: number;
  decision: 'accept' | 'review' | 'reject' | null;
  cost: number;
  error: boolean;
}

/** What GET /v1/monitor/summary answers: everything the dashboard draws. */
export interface MonitorSummary {
  generatedAt: string;
  /** Classification and detection pipelines' prediction drift and unsure shares (absent where none runs). */
  predictionDrift?: PredictionDriftStatus[];
  images: number;
  reference: { state: 'ready'; source: string; images: number; createdAt: string } | { state: 'collecting'; images: number; of: number };
  /** Time buckets over the recent predictions: start of each (unix seconds) and its figures. */
  series: {
    time: number[];
    p50: (number | null)[];
    p95: (number | null)[];
    p99: (number | null)[];
    throughput: number[];
    accept: number[];
    review: number[];
    reject: number[];
    errors: number[];
    costPerInference: (number | null)[];
  };
  errorsByCode: Record<string, number>;
  /** Per gate check: bin edges cut at the reference's deciles, and the share of each bin in the reference and in recent traffic. */
  quality: { check: string; edges: number[]; reference: number[] | null; production: number[] }[];
  drift: {
    points: DriftPoint[];
    /** The features of the latest evaluation, largest PSI first. */
    latest: { feature: string; psi: number; ks: number; drifted: boolean }[];
    mmdZ: number | null;
    drifted: boolean;
    /** `monitor.drift.minImages`, and the reference's features with fewer values than that: never judged. */
    minImages: number;
    notJudged: UnjudgedFeature[];
    /** What `notJudged` means, in one sentence; null when every feature is judged. */
    notJudgedMessage: string | null;
  };
  outliers: { threshold: number | null; rate: number; clusters: ClusterSummary[] };
  reviews: { modelVersion: string; reviews: number; rate: number }[];
  accuracy: { modelVersion: string; production?: number; lab?: number }[];
  cost: { currency: string; total: number; perInference: number | null };
  alerts: AlertState[];
}

export interface SummaryInputs {
  now: Date;
  data: DataMonitor;
  recent: readonly PredictionPoint[];
  errorCodes: ReadonlyMap<string, number>;
  qualityValues: ReadonlyMap<string, number[]>;
  reviews: { modelVersion: string; reviews: number; rate: number }[];
  accuracy: { modelVersion: string; production?: number; lab?: number }[];
  cost: { currency: string; total: number };
  alerts: AlertState[];
  referenceImages: number;
}

const BUCKETS = 30;
const QUALITY_BINS = 10;

export function buildSummary(inputs: SummaryInputs): MonitorSummary {
  const { data } = inputs;
  const profile = data.reference;
  const latest = data.lastDrift;
  const priced = inputs.recent.filter((p) => !p.error);
  return {
    generatedAt: inputs.now.toISOString(),
    images: data.images,
    reference:
      profile === null
        ? { state: 'collecting', images: data.images, of: inputs.referenceImages }
        : { state: 'ready', source: profile.source, images: profile.images, createdAt: profile.createdAt },
    series: timeSeries(inputs.recent),
    errorsByCode: Object.fromEntries(inputs.errorCodes),
    quality: [...inputs.qualityValues.entries()].map(([check, values]) => {
      const reference = profile?.features[`quality.${check}`] ?? null;
      const edges = quantileEdges(reference ?? values, QUALITY_BINS);
      return { check, edges, reference: reference === null ? null : binShares(reference, edges), production: binShares(values, edges) };
    }),
    drift: {
      points: [...data.driftHistory],
      latest: (latest?.features ?? []).map((f) => ({ feature: f.feature, psi: f.psi, ks: f.ks, drifted: f.drifted })),
      mmdZ: latest?.descriptor?.z ?? null,
      drifted: latest?.drifted ?? false,
      minImages: data.driftMinImages,
      notJudged: data.unjudgedFeatures,
      notJudgedMessage: describeUnjudged(data.unjudgedFeatures, data.driftMinImages),
    },
    outliers: { threshold: profile?.descriptor.outlierThreshold ?? null, rate: data.outlierRate(), clusters: data.clusterSummary() },
    reviews: inputs.reviews,
    accuracy: inputs.accuracy,
    cost: { currency: inputs.cost.currency, total: inputs.cost.total, perInference: priced.length === 0 ? null : priced.reduce((s, p) => s + p.cost, 0) / priced.length },
    alerts: inputs.alerts,
  };
}

/** The recent predictions in equal time buckets from the first to the last. */
function timeSeries(recent: readonly PredictionPoint[]): MonitorSummary['series'] {
  const series: MonitorSummary['series'] = { time: [], p50: [], p95: [], p99: [], throughput: [], accept: [], review: [], reject: [], errors: [], costPerInference: [] };
  if (recent.length === 0) return series;
  const start = recent[0].time;
  const span = Math.max(1, recent[recent.length - 1].time - start);
  const buckets = Math.min(BUCKETS, recent.length);
  const width = span / buckets;
  const grouped: PredictionPoint[][] = Array.from({ length: buckets }, () => []);
  for (const point of recent) grouped[Math.min(buckets - 1, Math.floor((point.time - start) / width))].push(point);
  grouped.forEach((points, b) => {
    const latencies = sorted(points.filter((p) => !p.error).map((p) => p.latencyMs));
    const priced = points.filter((p) => !p.error);
    series.time.push((start + b * width) / 1000);
    series.p50.push(latencies.length === 0 ? null : quantileOf(latencies, 0.5));
    series.p95.push(latencies.length === 0 ? null : quantileOf(latencies, 0.95));
    series.p99.push(latencies.length === 0 ? null : quantileOf(latencies, 0.99));
    series.throughput.push(points.length / Math.max(0.001, width / 1000));
    series.accept.push(points.filter((p) => p.decision === 'accept').length);
    series.review.push(points.filter((p) => p.decision === 'review').length);
    series.reject.push(points.filter((p) => p.decision === 'reject').length);
    series.errors.push(points.filter((p) => p.error).length);
    series.costPerInference.push(priced.length === 0 ? null : priced.reduce((s, p) => s + p.cost, 0) / priced.length);
  });
  return series;
}
