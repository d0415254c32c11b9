/**
 * Measures drift detection as `visionops serve` runs it with the default monitor settings, and
 * prints the figures docs/monitoring.md and the README quote:
 *
 *   1. a reference from the first `monitor.reference.images` (200) normal pages;
 *   2. a long stream of normal pages (other text, fonts, sizes, skew, JPEG quality and light):
 *      drift alerts that fire there are false alarms, and the outlier rate should be about 1%;
 *   3. for each shift (darkened to 40%, blurred with sigma 2.5, a new kind of document: blue ink
 *      on yellow paper): 100 normal pages, then shifted
 *      pages until the drift alert fires (how many, and which features it names) and the window
 *      holds only shifted pages, then normal pages until the alert resolves (how many).
 *
 * The pages come from test/fixtures/streams.ts. Every feature drift is judged on here comes from
 * the gate and the image descriptor, so the OCR models are not run (their confidence and output
 * features are absent from these windows): `observeImage` without a pipeline.
 *
 *   node --import tsx scripts/measure-drift.ts                 # 1000 normal pages (about 3 minutes)
 *   node --import tsx scripts/measure-drift.ts --normal 3000
 *   node --import tsx scripts/measure-drift.ts --set monitor.drift.windowImages=50
 */
import { loadConfig } from '../src/config/load.js';
import { describeFrame } from '../src/core/monitor/descriptor.js';
import { ingestImage } from '../src/image/ingest.js';
import { createMonitor, type Monitor } from '../src/monitor/monitor.js';
import { observeImage } from '../src/monitor/observation.js';
import { streamPage, type Shift } from '../test/fixtures/streams.js';

const argument = (name: string) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
};
const sets = process.argv.flatMap((arg, i) => (process.argv[i - 1] === '--set' ? [arg] : []));
const config = loadConfig({ sets: ['monitor.gpu.enabled=false', ...sets] });
const normalPages = Number(argument('--normal') ?? 1000);
const MAX_SHIFTED = 400;
const MAX_RECOVERY = 400;

let clock = 0;
const monitor = await createMonitor({ config, now: () => new Date(Date.UTC(2026, 0, 1) + clock * 1000) });

/** Feeds one page; answers the drift alert's state afterwards. */
async function feed(seed: number, index: number, shift: Shift): Promise<'firing' | 'resolved' | 'none'> {
  clock++;
  monitor.observe(await observeImage(await streamPage(seed, index, shift), config));
  return driftState(monitor);
}

/** Milliseconds `describeFrame` takes on the decoded page. */
async function timeDescriptor(page: Promise<Buffer>): Promise<number> {
  const image = await ingestImage(await page, config.ingest);
  const t0 = performance.now();
  describeFrame(image.frame);
  return performance.now() - t0;
}

function driftState(m: Monitor): 'firing' | 'resolved' | 'none' {
  return m.alerts().find((a) => a.rule === 'drift')?.state ?? 'none';
}

const started = performance.now();
for (let i = 0; i < config.monitor.reference.images; i++) await feed(1, i, 'normal');

// Long normal stream: count firing transitions (false alarms) and outliers.
let falseAlarms = 0;
let firingPages = 0;
let outliers = 0;
let evaluations = 0;
let observeMs = 0;
let descriptorMs = 0;
let previous = driftState(monitor);
const alarmMessages: string[] = [];
for (let i = 0; i < normalPages; i++) {
  clock++;
  const observation = await observeImage(await streamPage(2, i, 'normal'), config);
  const t0 = performance.now();
  const outcome = monitor.observe(observation);
  observeMs += performance.now() - t0;
  descriptorMs += await timeDescriptor(streamPage(2, i, 'normal'));
  if (outcome.outlier) outliers++;
  if (outcome.drift !== null) evaluations++;
  const state = driftState(monitor);
  if (state === 'firing') firingPages++;
  if (state === 'firing' && previous !== 'firing') {
    falseAlarms++;
    alarmMessages.push(monitor.alerts().find((a) => a.rule === 'drift')!.message);
  }
  previous = state;
}
// Let a false alarm that is still firing clear before the shifts are measured.
for (let i = 0; driftState(monitor) === 'firing' && i < MAX_RECOVERY; i++) await feed(5, i, 'normal');

interface ShiftResult {
  shift: Shift;
  pagesToFire: number | null;
  named: string;
  pagesToClear: number | null;
}
const results: ShiftResult[] = [];
for (const [n, shift] of (['dark', 'blurred', 'coloured'] as const).entries()) {
  for (let i = 0; i < 100; i++) await feed(10 + n, i, 'normal');
  let pagesToFire: number | null = null;
  let named = '';
  let shifted = 0;
  // The shift lasts until the alert fires and the window holds nothing else, as a real one would.
  while (shifted < MAX_SHIFTED && (pagesToFire === null || shifted < config.monitor.drift.windowImages)) {
    const state = await feed(20 + n, shifted++, shift);
    if (state === 'firing' && pagesToFire === null) {
      pagesToFire = shifted;
      named = monitor.alerts().find((a) => a.rule === 'drift')!.message;
    }
  }
  let pagesToClear: number | null = null;
  for (let i = 0; i < MAX_RECOVERY && pagesToClear === null; i++) if ((await feed(30 + n, i, 'normal')) === 'resolved') pagesToClear = i + 1;
  results.push({ shift, pagesToFire, named, pagesToClear });
}
await monitor.close();

const { drift } = config.monitor;
console.log(`settings: reference ${config.monitor.reference.images} pages, window ${drift.windowImages}, evaluated every ${drift.evaluateEvery}, resolved after ${drift.clearAfter} clean evaluations, PSI > ${drift.psi} and KS p < ${drift.ksPValue}, MMD z >= ${drift.mmdZ} and MMD² >= ${drift.mmdMin}`);
console.log(`normal stream: ${normalPages} pages, ${evaluations} drift evaluations, ${falseAlarms} false alarms (${((falseAlarms / normalPages) * 1000).toFixed(2)} per 1000 pages, ${((falseAlarms / Math.max(1, evaluations)) * 100).toFixed(2)}% of evaluations), firing during ${firingPages} pages; outliers ${outliers} (${((outliers / normalPages) * 100).toFixed(2)}%)`);
console.log(`monitor cost per page: descriptor ${(descriptorMs / normalPages).toFixed(1)} ms, observe (outlier score, window, drift tests every ${drift.evaluateEvery} pages) ${(observeMs / normalPages).toFixed(1)} ms on average`);
for (const message of alarmMessages) console.log(`  false alarm: ${message}`);
for (const r of results) {
  console.log(`${r.shift}: fired after ${r.pagesToFire ?? `more than ${MAX_SHIFTED}`} pages; cleared after ${r.pagesToClear ?? `more than ${MAX_RECOVERY}`} normal pages`);
  console.log(`  ${r.named}`);
}
console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
