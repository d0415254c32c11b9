import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { AlertBook } from '../src/core/monitor/alerts.js';
import { UnusualClusters } from '../src/core/monitor/clusters.js';
import { DataMonitor, type DataMonitorSettings } from '../src/core/monitor/data-monitor.js';
import { DESCRIPTOR_NAMES, describeFrame } from '../src/core/monitor/descriptor.js';
import { describeUnjudged, evaluateDrift, featuresTooSparseToJudge } from '../src/core/monitor/drift.js';
import { scalarFeatures, type MonitorObservation } from '../src/core/monitor/features.js';
import { mmdTest } from '../src/core/monitor/mmd.js';
import { PROFILE_DEFAULTS, buildReferenceProfile, outlierScore } from '../src/core/monitor/profile.js';
import { seededRandom } from '../src/core/monitor/random.js';
import { RateWatch } from '../src/core/monitor/rate-shift.js';
import { kolmogorovSmirnov, populationStabilityIndex } from '../src/core/monitor/statistics.js';
import { observeImage } from '../src/monitor/observation.js';
import { streamPage, type Shift } from './fixtures/streams.js';

const config = loadConfig();

function gaussian(random: () => number, mean = 0, sd = 1): number {
  return mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

async function observations(seed: number, count: number, shift: Shift): Promise<MonitorObservation[]> {
  const out: MonitorObservation[] = [];
  for (let i = 0; i < count; i++) out.push(await observeImage(await streamPage(seed, i, shift), config));
  return out;
}

test('PSI and KS stay small between samples of one distribution and grow with a shift', () => {
  const random = seededRandom(7);
  const reference = Array.from({ length: 1000 }, () => gaussian(random));
  const same = Array.from({ length: 200 }, () => gaussian(random));
  const shifted = Array.from({ length: 200 }, () => gaussian(random, 1));
  assert.ok(populationStabilityIndex(reference, same) < 0.1);
  assert.ok(populationStabilityIndex(reference, shifted) > 0.5);
  assert.ok(kolmogorovSmirnov(reference, same).pValue > 0.01);
  const moved = kolmogorovSmirnov(reference, shifted);
  assert.ok(moved.statistic > 0.3 && moved.pValue < 1e-6, JSON.stringify(moved));
});

test('MMD tells a shifted cloud of points from the reference, and not a fresh sample of it', () => {
  const random = seededRandom(3);
  const cloud = (n: number, shift: number) => Array.from({ length: n }, () => [gaussian(random, shift), gaussian(random), gaussian(random)]);
  const reference = cloud(150, 0);
  const options = { bandwidth: 6, permutations: 100, random };
  const same = mmdTest(reference, cloud(60, 0), options);
  const moved = mmdTest(reference, cloud(60, 1), options);
  assert.ok(same.z < 3, `same distribution z ${same.z}`);
  assert.ok(moved.z > 6 && moved.pValue < 0.02, `shifted z ${moved.z}`);
});

test('a sudden step in a rate is flagged; the same rate held steady is not', () => {
  const watch = new RateWatch({ recent: 50, baseline: 200, z: 4, minChange: 0.15 });
  const random = seededRandom(5);
  for (let i = 0; i < 250; i++) watch.record(random() < 0.05);
  assert.equal(watch.current().shifted, false);
  for (let i = 0; i < 50; i++) watch.record(random() < 0.4);
  const shift = watch.current();
  assert.equal(shift.shifted, true, JSON.stringify(shift));
  assert.ok(shift.rate > 0.25 && shift.baseline < 0.1);
});

test('unusual images that keep coming together form one emerging cluster with thumbnails', () => {
  const clusters = new UnusualClusters({ radius: 2, maxClusters: 5, growthWindow: 20, minGrowth: 5, thumbnails: 2 });
  const random = seededRandom(11);
  for (let i = 1; i <= 40; i++) {
    const near = i > 20 && i % 2 === 0 ? [10 + random() * 0.5, 10] : [random() * 40 - 60, random() * 40 + 60 * (i % 3)];
    const filed = clusters.add(near, i, 'outlier');
    if (filed.wantsThumbnail) clusters.attachThumbnail(filed.cluster, `thumb-${i}`);
  }
  const emerging = clusters.summary(40).filter((c) => c.emerging);
  assert.equal(emerging.length, 1, JSON.stringify(clusters.summary(40)));
  assert.equal(emerging[0].size, 10);
  assert.deepEqual(emerging[0].thumbnails, ['thumb-22', 'thumb-24']);
  assert.equal(emerging[0].firstSeen, 22);
});

test('alerts change state only on transitions: firing once, refreshed while firing, resolved once', () => {
  const book = new AlertBook();
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  assert.deepEqual(book.apply([{ rule: 'drift', firing: false, message: 'calm', details: {} }], t(0)), []);
  const fired = book.apply([{ rule: 'drift', firing: true, message: 'moved 1', details: {} }], t(1));
  assert.equal(fired.length, 1);
  assert.equal(book.apply([{ rule: 'drift', firing: true, message: 'moved 2', details: {} }], t(2)).length, 0);
  assert.deepEqual(book.list().map((a) => [a.state, a.since, a.message]), [['firing', t(1).toISOString(), 'moved 2']]);
  const resolved = book.apply([{ rule: 'drift', firing: false, message: 'back', details: {} }], t(3));
  assert.deepEqual(resolved.map((a) => a.state), ['resolved']);
});

const SETTINGS: DataMonitorSettings = {
  referenceImages: 60,
  windowImages: 40,
  evaluateEvery: 5,
  clearAfter: 3,
  drift: { bins: 10, psi: 0.25, ksPValue: 0.001, permutations: 100, mmdZ: 6, mmdMin: 0.02, minImages: 20 },
  profile: PROFILE_DEFAULTS,
  clusters: { radius: 4, maxClusters: 20, growthWindow: 40, minGrowth: 5, thumbnails: 4 },
  rates: { recent: 20, baseline: 100, z: 4, minChange: 0.15 },
  seed: 1,
};

let reference: MonitorObservation[];
let normal: MonitorObservation[];
let dark: MonitorObservation[];
let coloured: MonitorObservation[];

before(async () => {
  reference = await observations(1, 60, 'normal');
  normal = await observations(2, 60, 'normal');
  dark = await observations(3, 40, 'dark');
  coloured = await observations(4, 20, 'coloured');
});

test('the descriptor is a few dozen finite numbers, and darkening moves its luma', async () => {
  assert.equal(reference[0].descriptor.length, DESCRIPTOR_NAMES.length);
  assert.ok(DESCRIPTOR_NAMES.length >= 24 && DESCRIPTOR_NAMES.length <= 48);
  assert.ok(reference[0].descriptor.every(Number.isFinite));
  const mean = DESCRIPTOR_NAMES.indexOf('luma.mean');
  assert.ok(dark[0].descriptor[mean] < reference[0].descriptor[mean] * 0.6);
  const rgba = { width: 2, height: 1, channels: 4 as const, data: new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 255]) };
  assert.equal(describeFrame(rgba).length, DESCRIPTOR_NAMES.length, 'a browser canvas (RGBA) is described too');
});

test('about 1% of the reference exceeds the outlier threshold; darkened pages all do', () => {
  const profile = buildReferenceProfile(reference, { ...PROFILE_DEFAULTS, source: 'test', createdAt: new Date(0).toISOString() });
  const normalOutliers = normal.filter((o) => outlierScore(profile, o.descriptor) > profile.descriptor.outlierThreshold).length;
  assert.ok(normalOutliers <= 6, `${normalOutliers} of 60 normal pages scored as outliers`);
  assert.ok(dark.every((o) => outlierScore(profile, o.descriptor) > profile.descriptor.outlierThreshold));
});

test('drift: none on normal pages, fires on darkened ones naming an exposure feature, clears when normal pages return', () => {
  const monitor = new DataMonitor(SETTINGS, null);
  const at = new Date(0);
  for (const o of reference) monitor.observe(o, at);
  assert.equal(monitor.reference?.images, 60, 'the first 60 images became the reference');

  for (const o of normal) assert.equal(monitor.observe(o, at).drift?.drifted ?? false, false, monitor.lastDrift?.message ?? '');

  let firedAfter: number | null = null;
  for (const [i, o] of dark.entries()) {
    if (monitor.observe(o, at).drift?.drifted && firedAfter === null) firedAfter = i + 1;
  }
  assert.ok(firedAfter !== null && firedAfter <= 20, `fired after ${firedAfter} darkened pages`);
  const report = monitor.lastDrift!;
  assert.ok(report.drifted);
  const moved = report.features.filter((f) => f.drifted).map((f) => f.feature);
  assert.ok(moved.some((f) => /^exposure\.(meanLuma|paperLevel)$|^quality\.exposure$/.test(f)), moved.join(', '));
  assert.match(report.message!, /exposure\.(meanLuma|paperLevel)|quality\.exposure/);
  assert.match(report.message!, /median \d+ -> \d+/);

  let clearedAfter: number | null = null;
  for (const [i, o] of normal.entries()) {
    monitor.observe(o, at);
    if (!monitor.driftState.active && clearedAfter === null) clearedAfter = i + 1;
  }
  const bound = SETTINGS.windowImages + SETTINGS.clearAfter * SETTINGS.evaluateEvery;
  assert.ok(clearedAfter !== null && clearedAfter <= bound, `cleared after ${clearedAfter} normal pages`);
});

test('features the reference holds fewer values of than minImages are the ones drift skips, and are named', () => {
  const profile = buildReferenceProfile(reference, { ...PROFILE_DEFAULTS, source: 'test', createdAt: new Date(0).toISOString() });
  assert.deepEqual(featuresTooSparseToJudge(profile, 20), [], 'a 60-image reference holds enough of every feature for 20');
  assert.equal(describeUnjudged([], 20), null);

  const thin = buildReferenceProfile(reference.slice(0, 12), { ...PROFILE_DEFAULTS, source: 'test', createdAt: new Date(0).toISOString() });
  const unjudged = featuresTooSparseToJudge(thin, 20);
  assert.deepEqual(unjudged.map((u) => u.feature).sort(), Object.keys(thin.features).sort());
  assert.ok(unjudged.every((u) => u.referenceValues <= 12));
  const report = evaluateDrift(thin, { features: normal.map(scalarFeatures), descriptors: normal.map((o) => o.descriptor) }, SETTINGS.drift, seededRandom(1));
  assert.deepEqual(report.features, [], 'none of them was judged');
  const message = describeUnjudged(unjudged, 20)!;
  assert.match(message, new RegExp(`^${unjudged.length} scalar features have fewer reference values than monitor\\.drift\\.minImages \\(20\\)`));
  assert.match(message, /quality\.blur \(12\)/);

  const monitor = new DataMonitor(SETTINGS, thin);
  assert.deepEqual(monitor.unjudgedFeatures, unjudged);
});

test('alert rules: each fires past its threshold with a message naming what and how much, and stays silent without enough data', async () => {
  const { evaluateRules } = await import('../src/monitor/alert-rules.js');
  const rules = loadConfig().monitor.alerts;
  const steady = { rate: 0.02, baseline: 0.02, z: 0, shifted: false, events: 600 };
  const inputs = {
    drift: null,
    driftEvaluated: false,
    driftState: { active: false, cleanEvaluations: 0, clearAfter: 3 },
    outlierRate: { rate: 0.3, images: 100 },
    errorRate: { rate: 0.25, events: 100 },
    shifts: { reject: { rate: 0.4, baseline: 0.05, z: 11, shifted: true, events: 600 }, review: steady, error: steady },
    latencies: Array.from({ length: 100 }, (_, i) => (i < 90 ? 800 : 12_000)),
    queueDepth: 17,
    overrides: [{ modelVersion: 'ppocrv4-rec@4.0', reviews: 40, rate: 0.35 }],
  };
  const verdicts = Object.fromEntries(evaluateRules(rules, inputs).map((v) => [v.rule, v]));
  assert.deepEqual(Object.keys(verdicts).sort(), ['errorRate', 'latency', 'outlierRate', 'overrideRate', 'queueDepth', 'rateShift']);
  for (const verdict of Object.values(verdicts)) assert.equal(verdict.firing, true, verdict.rule);
  assert.match(verdicts.outlierRate.message, /30\.0% of the last 100 images/);
  assert.match(verdicts.errorRate.message, /25\.0% of the last 100 predictions/);
  assert.match(verdicts.rateShift.message, /reject rate 5\.0% -> 40\.0%/);
  assert.match(verdicts.latency.message, /p95 is 12000 ms/);
  assert.match(verdicts.queueDepth.message, /^17 predictions/);
  assert.match(verdicts.overrideRate.message, /35\.0% of the last 40 reviews of ppocrv4-rec@4\.0/);

  const early = evaluateRules(rules, { ...inputs, outlierRate: { rate: 0.3, images: 10 }, errorRate: { rate: 1, events: 3 }, latencies: [20_000], overrides: [{ modelVersion: 'v', reviews: 3, rate: 1 }] });
  assert.deepEqual(early.map((v) => v.rule).sort(), ['queueDepth', 'rateShift'], 'too few images, predictions or reviews: no verdict');
});

test('busy time: CPU used while two predictions overlap is shared between them, not charged twice', async () => {
  const { BusyClock } = await import('../src/monitor/busy-time.js');
  let micros = 0;
  const clock = new BusyClock(() => micros);
  const first = clock.start();
  micros += 1_000_000; // first alone: 1 s
  const second = clock.start();
  micros += 2_000_000; // both: 2 s, 1 s each
  const firstSeconds = clock.finish(first);
  micros += 500_000; // second alone: 0.5 s
  assert.equal(firstSeconds, 2);
  assert.equal(clock.finish(second), 1.5);
});

test('scalar features: gate scores and exposure levels always, confidence and output shape when lines were read', () => {
  const quality = { verdict: 'pass' as const, guidance: [], checks: [
    { name: 'blur', score: 0.4, threshold: 0.18, verdict: 'pass' as const, guidance: null },
    { name: 'exposure', score: 180, threshold: 8, verdict: 'pass' as const, guidance: null, details: { meanLuma: 230, paperLevel: 250, inkLevel: 40, dark: 0 } },
  ] };
  const read = scalarFeatures({ quality, decision: 'accept', descriptor: [], lines: [
    { text: 'Total 12', confidence: 0.9 },
    { text: 'ab, c', confidence: 0.8 },
  ] });
  assert.equal(read['quality.blur'], 0.4);
  assert.equal(read['exposure.paperLevel'], 250);
  assert.equal(read['exposure.dark'], undefined, 'flags are not features');
  assert.equal(read['output.lines'], 2);
  assert.equal(read['output.charsPerLine'], 6.5);
  assert.ok(Math.abs(read['confidence.mean'] - 0.85) < 1e-9);
  assert.equal(read['confidence.min'], 0.8);
  assert.deepEqual([read['output.letterShare'], read['output.digitShare'], read['output.spaceShare'], read['output.punctuationShare']], [8 / 13, 2 / 13, 2 / 13, 1 / 13]);
  const refused = scalarFeatures({ quality, decision: 'reject', descriptor: [], lines: null });
  assert.deepEqual(Object.keys(refused).sort(), ['exposure.inkLevel', 'exposure.meanLuma', 'exposure.paperLevel', 'quality.blur', 'quality.exposure']);
});

test('a new kind of document (blue ink on yellow paper) shows as one emerging cluster of outliers', () => {
  const monitor = new DataMonitor(SETTINGS, null);
  const at = new Date(0);
  for (const o of reference) monitor.observe(o, at);
  for (const [i, o] of normal.slice(0, 30).entries()) {
    monitor.observe(o, at);
    if (i < coloured.length) monitor.observe(coloured[i], at);
  }
  const clusters = monitor.clusterSummary();
  const emerging = clusters.filter((c) => c.emerging);
  assert.equal(emerging.length, 1, JSON.stringify(clusters.map((c) => [c.size, c.reasons])));
  assert.ok(emerging[0].size >= 18, `the new kind grouped together: ${emerging[0].size} of 20`);
  assert.deepEqual(Object.keys(emerging[0].reasons), ['outlier']);
});
