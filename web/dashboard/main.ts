// First: it makes the browser's language one that uPlot, as it loads, can hand to Intl.
import '../shared/usable-language.js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MonitorSummary } from '../../src/core/monitor/summary.ts';
import type { Comparison } from '../../src/registry/judging.ts';
import { forgetKey, keyHeaders, rememberKey } from '../shared/api-key.js';
import './style.css';

/** How often the page asks the server for a new summary. */
const POLL_MS = 2000;
const WIDTH = 420;
const HEIGHT = 180;
const COLOURS = ['#1f6feb', '#d1242f', '#2da44e', '#bf8700', '#8250df', '#57606a'];

const app = document.querySelector<HTMLElement>('#app')!;
const charts = new Map<string, uPlot>();

/** A panel with a title, `#panel-<id>`; created once, found again on every refresh. */
function panel(id: string, title: string, wide = false): HTMLElement {
  let section = document.getElementById(`panel-${id}`);
  if (section === null) {
    section = document.createElement('section');
    section.id = `panel-${id}`;
    if (wide) section.classList.add('wide');
    const heading = document.createElement('h2');
    heading.textContent = title;
    section.append(heading, document.createElement('div'));
    app.append(section);
  }
  return section.lastElementChild as HTMLElement;
}

function showEmpty(id: string, body: HTMLElement, message: string): void {
  charts.get(id)?.destroy();
  charts.delete(id);
  body.replaceChildren();
  const p = document.createElement('p');
  p.className = 'empty';
  p.textContent = message;
  body.append(p);
  body.parentElement!.dataset.points = '0';
}

/**
 * Draws `data` in the panel `id`, creating the chart on first use and replacing its data after.
 * The panel's `data-points` says how many values are drawn, for people and for the browser test.
 */
interface ChartOptions {
  /** The x values are unix seconds (default) rather than indexes. */
  time?: boolean;
  bars?: boolean;
  /** Names of the x indexes, for categories (error codes, model versions, bins). */
  xLabels?: string[];
  /** How the y axis writes its values. */
  yFormat?: (value: number) => string;
}

function chart(id: string, title: string, series: string[], data: (number | null)[][], options: ChartOptions = {}): void {
  const body = panel(id, title);
  const points = data.slice(1).reduce((n, s) => n + s.filter((v) => v !== null && Number.isFinite(v)).length, 0);
  if (data[0].length === 0 || points === 0) return showEmpty(id, body, 'no data yet');
  body.parentElement!.dataset.points = String(points);
  const existing = charts.get(id);
  const key = `${series.join('|')}:${options.xLabels?.join('|') ?? ''}`;
  if (existing !== undefined && existing.root.dataset.key === key) {
    existing.setData(data as uPlot.AlignedData);
    return;
  }
  existing?.destroy();
  body.replaceChildren();
  const bars = options.bars ? uPlot.paths.bars!({ size: [0.7, 60] }) : undefined;
  const labels = options.xLabels;
  const plot = new uPlot(
    {
      width: WIDTH,
      height: HEIGHT,
      scales: {
        // Categories sit half a step in from the edges, and bars stand on zero.
        x: labels ? { time: false, range: () => [-0.5, labels.length - 0.5] } : { time: options.time ?? true },
        y: bars ? { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } : {},
      },
      axes: [
        labels ? { values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? (labels[v] ?? '') : '')) } : {},
        options.yFormat ? { values: (_u, splits) => splits.map(options.yFormat!), size: 70 } : {},
      ],
      series: [{}, ...series.map((label, i) => ({ label, stroke: COLOURS[i % COLOURS.length], fill: bars ? `${COLOURS[i % COLOURS.length]}55` : undefined, paths: bars, points: { show: !bars } }))],
    },
    data as uPlot.AlignedData,
    body,
  );
  plot.root.dataset.key = key;
  charts.set(id, plot);
}

function render(summary: MonitorSummary): void {
  document.getElementById('status')!.textContent = `${summary.images} images · updated ${new Date(summary.generatedAt).toLocaleTimeString()}`;
  const ref = summary.reference;
  const reference = document.getElementById('reference')!;
  const unjudged = summary.drift.notJudged.length;
  reference.textContent =
    (ref.state === 'ready' ? `reference: ${ref.source} (${ref.images} images)` : `collecting the reference: ${ref.images} of ${ref.of} images`) +
    (unjudged > 0 ? ` · ${unjudged} features too sparse to judge for drift` : '');
  reference.title = summary.drift.notJudgedMessage ?? '';
  const { cost } = summary;
  document.getElementById('cost')!.textContent = cost.perInference === null ? 'cost: no data yet' : `cost per inference: ${cost.perInference.toExponential(2)} ${cost.currency}`;

  renderAlerts(summary);
  const s = summary.series;
  chart('latency', 'Latency percentiles (ms)', ['p50', 'p95', 'p99'], [s.time, s.p50, s.p95, s.p99]);
  chart('throughput', 'Throughput (images/s)', ['images/s'], [s.time, s.throughput]);
  chart('decisions', 'Decisions', ['accept', 'review', 'reject'], [s.time, s.accept, s.review, s.reject]);
  const codes = Object.keys(summary.errorsByCode);
  chart('errors', 'Errors by code', ['errors'], [codes.map((_, i) => i), codes.map((c) => summary.errorsByCode[c])], { time: false, bars: true, xLabels: codes });
  chart('cost', `Cost per inference (${cost.currency})`, ['cost'], [s.time, s.costPerInference], { yFormat: (v) => v.toExponential(1) });
  const drift = summary.drift.points;
  chart('drift', 'Drift: largest PSI of any feature, MMD z of the descriptor', ['max PSI', 'MMD z'], [drift.map((p) => p.index), drift.map((p) => p.maxPsi), drift.map((p) => p.mmdZ)], { time: false });
  for (const q of summary.quality) {
    const bins = q.production.map((_, i) => i);
    const labels = bins.map((i) => (i === 0 ? `<${fmt(q.edges[0])}` : `>${fmt(q.edges[i - 1])}`));
    chart(`quality-${q.check}`, `Quality: ${q.check} (share per bin, reference vs production)`, ['reference', 'production'], [bins, q.reference ?? bins.map(() => null), q.production], {
      time: false,
      bars: true,
      xLabels: labels,
    });
  }
  const versions = summary.reviews.map((r) => r.modelVersion);
  chart('overrides', 'Human override rate per model version', ['override rate'], [versions.map((_, i) => i), summary.reviews.map((r) => r.rate)], { time: false, bars: true, xLabels: versions });
  const accuracy = summary.accuracy;
  chart('accuracy', 'Accuracy: production (from reviews) vs lab', ['production', 'lab'], [accuracy.map((_, i) => i), accuracy.map((a) => a.production ?? null), accuracy.map((a) => a.lab ?? null)], {
    time: false,
    bars: true,
    xLabels: accuracy.map((a) => a.modelVersion),
  });
  renderClusters(summary);
}

function renderAlerts(summary: MonitorSummary): void {
  const body = panel('alerts', 'Alerts', true);
  body.replaceChildren();
  if (summary.alerts.length === 0) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'No alert has fired.';
    body.append(p);
    return;
  }
  const list = document.createElement('ul');
  list.className = 'alerts';
  for (const alert of summary.alerts) {
    const item = document.createElement('li');
    item.className = alert.state;
    item.textContent = `${alert.state.toUpperCase()} ${alert.rule} since ${new Date(alert.since).toLocaleString()}: ${alert.message}`;
    list.append(item);
  }
  body.append(list);
}

function renderClusters(summary: MonitorSummary): void {
  const body = panel('clusters', 'Clusters of unusual images (outliers and unsure results)', true);
  const clusters = summary.outliers.clusters.filter((c) => c.size > 0).slice(0, 8);
  body.parentElement!.dataset.points = String(clusters.length);
  body.replaceChildren();
  const rate = document.createElement('p');
  rate.textContent = `Outlier rate ${(summary.outliers.rate * 100).toFixed(1)}% of the drift window; threshold ${summary.outliers.threshold?.toFixed(2) ?? 'not set until the reference is ready'}.`;
  body.append(rate);
  if (clusters.length === 0) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'no data yet';
    body.append(p);
    return;
  }
  for (const cluster of clusters) {
    const row = document.createElement('div');
    row.className = 'cluster';
    const text = document.createElement('span');
    const reasons = Object.entries(cluster.reasons).map(([r, n]) => `${n} ${r}`).join(', ');
    text.textContent = `#${cluster.id}: ${cluster.size} images (${reasons}); ${cluster.recent} in the last window, ${cluster.previous} before${cluster.emerging ? ' — emerging' : ''}`;
    row.append(text);
    for (const thumbnail of cluster.thumbnails) {
      const img = document.createElement('img');
      img.alt = `an image of cluster ${cluster.id}`;
      if (thumbnail.startsWith('data:image/jpeg;base64,')) img.src = thumbnail;
      row.append(img);
    }
    body.append(row);
  }
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(2);
}

/** What the models panel reads of GET /v1/models. */
interface VersionStage {
  model: string;
  version: string;
  stage: 'production' | 'canary' | 'shadow' | 'off';
}

/** Each canary and shadow beside production (GET /v1/models/:model/compare), one row per candidate. */
async function renderModels(): Promise<void> {
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(path, { headers: keyHeaders(), credentials: 'omit' });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    return (await response.json()) as T;
  };
  const { versions } = await get<{ versions: VersionStage[] }>('/v1/models');
  const candidates = versions.filter((v) => v.stage === 'canary' || v.stage === 'shadow');
  const comparisons = await Promise.all(candidates.map((v) => get<Comparison>(`/v1/models/${encodeURIComponent(v.model)}/compare?candidate=${encodeURIComponent(v.version)}`)));
  const body = panel('models', 'Model versions on trial (canary, shadow) against production', true);
  body.parentElement!.dataset.points = String(comparisons.length);
  if (comparisons.length === 0) {
    showEmpty('models', body, `No canary or shadow: ${versions.filter((v) => v.stage === 'production').map((v) => `${v.model}@${v.version}`).join(', ')} in production.`);
    return;
  }
  const pct = (rate: { rate: number | null }) => (rate.rate === null ? '-' : `${(100 * rate.rate).toFixed(1)}%`);
  const ms = (value: number | null) => (value === null ? '-' : `${value.toFixed(0)} ms`);
  const table = document.createElement('table');
  const rows: string[][] = [['model', 'candidate', 'runs', 'review rate', 'error rate', 'override rate', 'p95', 'agreement']];
  for (const { model, candidate: c, production: p } of comparisons) {
    rows.push([
      model,
      `${c.version} (${c.stage}) vs ${p.version}`,
      `${c.runs} / ${p.runs}`,
      `${pct(c.reviewRate)} / ${pct(p.reviewRate)}`,
      `${pct(c.errorRate)} / ${pct(p.errorRate)}`,
      `${pct(c.overrideRate)} / ${pct(p.overrideRate)}`,
      `${ms(c.latencyMs.p95)} / ${ms(p.latencyMs.p95)}`,
      c.agreement === null ? '-' : `${(100 * c.agreement.mean).toFixed(1)}%`,
    ]);
  }
  rows.forEach((cells, i) => {
    const row = table.insertRow();
    for (const text of cells) {
      const cell = document.createElement(i === 0 ? 'th' : 'td');
      cell.textContent = text;
      row.append(cell);
    }
  });
  body.replaceChildren(table);
}

const login = document.getElementById('login') as HTMLFormElement;
const keyInput = document.getElementById('key') as HTMLInputElement;
login.addEventListener('submit', (event) => {
  event.preventDefault();
  rememberKey(keyInput.value);
  keyInput.value = '';
  login.hidden = true;
});

async function refresh(): Promise<void> {
  try {
    const response = await fetch('/v1/monitor/summary', { headers: keyHeaders(), credentials: 'omit' });
    if (response.status === 401 || response.status === 403) {
      // No key, an unknown one, or one without the admin scope: ask for another.
      forgetKey();
      login.hidden = false;
    }
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    render((await response.json()) as MonitorSummary);
    // The registry's panel is an addition: failing to read it leaves the rest of the page as it is.
    await renderModels().catch((error: Error) => showEmpty('models', panel('models', 'Model versions on trial (canary, shadow) against production', true), `cannot read the model registry: ${error.message}`));
    document.body.dataset.state = 'ready';
  } catch (error) {
    document.getElementById('status')!.textContent = `cannot reach the server: ${(error as Error).message}`;
  } finally {
    setTimeout(() => void refresh(), POLL_MS);
  }
}

void refresh();
