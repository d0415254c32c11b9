/**
 * `npm run fuzz`: damaged JPEG, PNG, WebP, TIFF, GIF and AVIF files through ingest and the
 * quality gate, in-process. Reports crashes (anything but a coded VisionopsError), hangs (over
 * 2 s) and refusals by code; exits 1 if any input crashed, hung or was refused with a status that
 * is not 4xx. Flags: --count N (100000), --seed N (1), --start N (first input's index, to replay
 * one finding: --start 4711 --count 1). SIGINT or SIGTERM ends the run early, with its report.
 */
import { parseArgs } from 'node:util';
import { createProgress } from '../src/cli/progress.js';
import { blockUnacceptedLoaders } from '../src/image/decode.js';
import { runFuzz, type Finding } from './fuzz/run.js';
import { makeSeeds } from './fuzz/seeds.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    start: { type: 'string', default: '0' },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
const start = Number(values.start);
if (![count, seed, start].every(Number.isSafeInteger) || count < 1) {
  process.stderr.write('usage: npm run fuzz -- [--count N] [--seed N] [--start N]\n');
  process.exit(2);
}

const seeds = await makeSeeds();
// After the seeds: they are rendered from SVG, which the blocked loaders include.
blockUnacceptedLoaders();
// Interrupted (Ctrl-C, or a time limit's SIGTERM), the run ends after the input in hand and reports.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (interrupted = true));
const progress = createProgress(count);
const began = performance.now();
const report = await runFuzz(seeds, {
  count,
  seed,
  start,
  stopped: () => interrupted,
  onInput: (input, outcome) => {
    if (outcome === 'crash' || outcome === 'hang') progress.note(`input ${input.index} (${input.seed}; ${input.mutations.join(', ')}): ${outcome}`);
    progress.tick(`${input.seed}: ${outcome}`);
  },
});
progress.stop();

const seconds = (performance.now() - began) / 1000;
const list = (findings: Finding[]) =>
  findings.slice(0, 20).map((f) => `  input ${f.index} (${f.seed}; ${f.mutations.join(', ') || 'unmutated'}): ${f.detail.split('\n').slice(0, 3).join(' | ')}\n`);
process.stdout.write(
  [
    `fuzz: seed ${seed}, inputs ${start}..${start + report.inputs - 1} (${report.inputs}${interrupted ? ', interrupted' : ''}) from ${seeds.length} seeds in ${seconds.toFixed(0)} s\n`,
    `accepted ${report.accepted}\n`,
    `refused ${Object.values(report.refusals).reduce((a, b) => a + b, 0)}: ${Object.entries(report.refusals)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code} ${n}`)
      .join(', ')}\n`,
    `crashes ${report.crashes.length}\n`,
    ...list(report.crashes),
    `hangs (> 2 s) ${report.hangs.length}\n`,
    ...list(report.hangs),
    `refusals not 4xx ${report.notClientErrors.length}\n`,
    ...list(report.notClientErrors),
    `slowest inputs\n`,
    ...list(report.slowest),
  ].join(''),
);
process.exitCode = report.crashes.length + report.hangs.length + report.notClientErrors.length > 0 ? 1 : 0;
// A hung decode may still hold libvips threads; the report is out, so do not wait for it.
process.exit();
