/**
 * Scores the document pipeline on folders of real captures with ground truth, the way issue 12
 * scores them, running the path the server runs in this process (ingest, gate, read, decide):
 *
 *   node --import tsx scripts/measure-real.ts <folder...> [--json out.json] [--set pipeline.detection.unclipRatio=2] [--limit 5] [--gate-only]
 *
 * A folder is recognised by its ground truth (a folder holding several is searched one level down):
 * - `gt/*.txt` (SROIE: `x1,y1,...,y4,text` a line): word F1 of the page;
 * - `annotations/*.json` (FUNSD: form[].words[].text): word F1 of the page;
 * - `gt/*.json` with `"granularity": "anchors"`: key lines found, each anchor counting when one
 *   line of the output holds it (case and whitespace ignored);
 * - `gt/*.json` with `"granularity": "segments"`: the same for every annotated text segment
 *   (`items[].text`), and for those marked `"key": true` apart;
 * - `gt/*.json` with `"granularity": "text"`: word F1 of the page against `text`;
 * - `gt/*.json` with `"granularity": "exposure"` and `"label": "over" | "under" | "normal"`: the
 *   gate alone, counting photos whose exposure finding goes the labelled way (none for normal);
 *   with `"content": "scene"` the image meets the scene gate (a photograph for a scene pipeline).
 * `scripts/make-captures.ts` writes generated captures of each kind issue 12 lists in these forms.
 * Word F1 compares multisets of upper-cased whitespace-separated words: 2 x matched / (read + truth),
 * per image, and the table gives the mean over images (and the pooled figure). Every folder counts
 * the images the gate refuses (verdict fail), which must be none: every image here is usable.
 * `--set path=value` (repeatable) overrides a setting of the configuration (JSON values).
 * `--gate-only` runs the gate alone as `visionops check` runs it (a large JPEG decodes reduced).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createProgress } from '../src/cli/progress.js';
import { configSchema, type Config } from '../src/config/schema.js';
import { decideDocument } from '../src/core/decision/document.js';
import { runContentGate } from '../src/core/quality/content-gate.js';
import { gateSettingsSchema } from '../src/core/quality/gate-settings.js';
import { TOO_DARK } from '../src/core/quality/exposure.js';
import type { QualityReport } from '../src/core/quality/types.js';
import { ingestImage } from '../src/image/ingest.js';
import { loadDocumentPipeline, type DocumentPipeline } from '../src/pipeline/document.js';
import { pathSettings, StageRunner } from '../src/pipeline/runner.js';
import { checkImage } from '../src/pipeline/service.js';
import { wordMatch, words } from '../test/fixtures/word-scores.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    limit: { type: 'string' },
    'gate-only': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '2' },
  },
});

type Kind = 'sroie' | 'funsd' | 'anchors' | 'segments' | 'text' | 'exposure';
type ExposureLabel = 'over' | 'under' | 'normal';

const SCENE_GATE = gateSettingsSchema.parse({ content: 'scene' });

interface Sample {
  kind: Kind;
  folder: string;
  image: string;
  /** Words of the page (word F1), key lines (anchors) or text segments. */
  truth: string[];
  /** Segments kind: which of `truth` are key lines. */
  keys?: boolean[];
  /** Exposure kind: how the photo is exposed. */
  label?: ExposureLabel;
  /** `scene` for a photograph that is not a document: it meets the gate a scene pipeline runs. */
  content?: 'scene';
}

interface Scored {
  image: string;
  kind: Kind;
  refused: boolean;
  quality: ReturnType<typeof summarise>;
  decision?: string;
  /** Word F1 kinds: matched, read and true word counts. */
  words?: { matched: number; read: number; truth: number; f1: number };
  /** Anchor and segment kinds: each anchor or segment and whether one line held it. */
  anchors?: { text: string; found: boolean; key: boolean }[];
  /** Exposure kind: the label and whether the gate's exposure finding went that way. */
  exposure?: { label: ExposureLabel; right: boolean };
  lines?: string[];
  ms: number;
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff']);

async function exists(path: string): Promise<boolean> {
  return readdir(path).then(
    () => true,
    () => false,
  );
}

async function imageFor(folder: string, stem: string): Promise<string> {
  const names = await readdir(join(folder, 'images'));
  const name = names.find((n) => n.slice(0, n.length - extname(n).length) === stem && IMAGE_EXTENSIONS.has(extname(n).toLowerCase()));
  if (name === undefined) throw new Error(`No image for ${stem} under ${folder}/images`);
  return join(folder, 'images', name);
}

/** Samples of one folder with ground truth, or of its subfolders when it has none of its own. */
async function samplesOf(folder: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  if (await exists(join(folder, 'annotations'))) {
    for (const name of (await readdir(join(folder, 'annotations'))).filter((n) => n.endsWith('.json')).sort()) {
      const form = JSON.parse(await readFile(join(folder, 'annotations', name), 'utf8')) as { form: { words: { text: string }[] }[] };
      const truth = form.form.flatMap((entity) => entity.words.flatMap((w) => words(w.text)));
      samples.push({ kind: 'funsd', folder, image: await imageFor(folder, basename(name, '.json')), truth });
    }
    return samples;
  }
  if (await exists(join(folder, 'gt'))) {
    for (const name of (await readdir(join(folder, 'gt'))).sort()) {
      const text = await readFile(join(folder, 'gt', name), 'utf8');
      if (name.endsWith('.txt')) {
        const truth = text.split('\n').flatMap((line) => {
          const fields = line.split(',');
          return fields.length > 8 ? words(fields.slice(8).join(',')) : [];
        });
        samples.push({ kind: 'sroie', folder, image: await imageFor(folder, basename(name, '.txt')), truth });
      } else if (name.endsWith('.json')) {
        const gt = JSON.parse(text) as { granularity?: string; image: string; items?: { text: string; key?: boolean }[]; text?: string; label?: ExposureLabel; content?: 'scene' };
        const image = join(folder, gt.image);
        const items = gt.items ?? [];
        if (gt.granularity === 'anchors') samples.push({ kind: 'anchors', folder, image, truth: items.map((item) => item.text) });
        else if (gt.granularity === 'segments') samples.push({ kind: 'segments', folder, image, truth: items.map((item) => item.text), keys: items.map((item) => item.key === true) });
        else if (gt.granularity === 'text') samples.push({ kind: 'text', folder, image, truth: words(gt.text ?? '') });
        else if (gt.granularity === 'exposure' && gt.label !== undefined) samples.push({ kind: 'exposure', folder, image, truth: [], label: gt.label, ...(gt.content === 'scene' ? { content: 'scene' as const } : {}) });
      }
    }
    return samples;
  }
  for (const entry of (await readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    samples.push(...(await samplesOf(join(folder, entry.name))));
  }
  return samples;
}

const squeeze = (text: string) => text.toUpperCase().replace(/\s+/g, '');

function setting(config: Record<string, unknown>, assignment: string): void {
  const at = assignment.indexOf('=');
  if (at < 0) throw new Error(`--set wants path=value, not ${assignment}`);
  const path = assignment.slice(0, at).split('.');
  const raw = assignment.slice(at + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  let node = config;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]] = value;
}

function summarise(report: QualityReport) {
  return {
    verdict: report.verdict,
    failed: report.checks.filter((c) => c.verdict === 'fail').map((c) => c.name),
    warned: report.checks.filter((c) => c.verdict === 'warn').map((c) => c.name),
    guidance: report.guidance,
    scores: Object.fromEntries(report.checks.map((c) => [c.name, c.score])),
    letterSize: report.checks.find((c) => c.name === 'resolution')?.details?.letterSize,
  };
}

async function score(sample: Sample, config: Config, pipeline: DocumentPipeline | null, gateOnly: StageRunner): Promise<Scored> {
  const started = performance.now();
  if (pipeline === null && sample.label === undefined) {
    // The gate alone, as `visionops check` and the edge agent run it (a large JPEG decodes reduced).
    const { quality } = await checkImage(gateOnly, await readFile(sample.image));
    return { image: sample.image, kind: sample.kind, refused: quality.verdict === 'fail', quality: summarise(quality), ms: Math.round(performance.now() - started) };
  }
  const image = await ingestImage(await readFile(sample.image), config.ingest, { file: sample.image });
  const quality = runContentGate(image.frame, config.quality, sample.content === 'scene' ? SCENE_GATE : undefined, image.luma);
  const scored: Scored = { image: sample.image, kind: sample.kind, refused: quality.verdict === 'fail', quality: summarise(quality), ms: 0 };
  if (sample.label !== undefined) scored.exposure = { label: sample.label, right: exposureFinding(quality) === sample.label };
  else if (pipeline !== null) {
    // Refused or not, the page is read: a refusal is counted, and the reading says what it cost.
    const { result } = await pipeline.read(image.frame, { exifOrientation: image.exifOrientation });
    scored.decision = decideDocument(quality, result, { reviewThreshold: config.pipeline.decision.reviewThreshold }).decision;
    scored.lines = result.lines.map((line) => line.text);
    if (sample.kind === 'anchors' || sample.kind === 'segments') {
      const lines = scored.lines.map(squeeze);
      scored.anchors = sample.truth.map((text, i) => ({ text, found: lines.some((line) => line.includes(squeeze(text))), key: sample.keys?.[i] ?? true }));
    } else {
      scored.words = wordMatch(words(result.text), sample.truth);
    }
  }
  scored.ms = Math.round(performance.now() - started);
  return scored;
}

/** Which way the gate's exposure check says the image is exposed: its guidance names the direction. */
function exposureFinding(report: QualityReport): ExposureLabel {
  const exposure = report.checks.find((c) => c.name === 'exposure');
  if (exposure === undefined || exposure.verdict === 'pass') return 'normal';
  return exposure.guidance === TOO_DARK ? 'under' : 'over';
}

interface Row {
  folder: string;
  kind: Kind;
  images: number;
  refused: number;
  measure: string;
  value: string;
}

function rows(results: Scored[], samples: Sample[]): Row[] {
  const folders = [...new Set(samples.map((s) => s.folder))];
  return folders.map((folder) => {
    const mine = results.filter((_, i) => samples[i].folder === folder);
    const kind = mine[0].kind;
    const base = { folder: basename(folder), kind, images: mine.length, refused: mine.filter((r) => r.refused).length };
    if (kind === 'exposure') {
      const labelled = mine.filter((r) => r.exposure?.label !== 'normal');
      const normal = mine.filter((r) => r.exposure?.label === 'normal');
      const flagged = `${labelled.filter((r) => r.exposure?.right).length} of ${labelled.length}`;
      return { ...base, measure: 'over/under-exposed flagged the right way; normal ones left alone', value: `${flagged}; ${normal.filter((r) => r.exposure?.right).length} of ${normal.length}` };
    }
    if (mine.some((r) => r.lines === undefined)) return { ...base, measure: 'gate only', value: '' };
    if (kind === 'anchors') {
      const anchors = mine.flatMap((r) => r.anchors ?? []);
      return { ...base, measure: 'key lines found as one line', value: `${anchors.filter((a) => a.found).length} of ${anchors.length}` };
    }
    if (kind === 'segments') {
      const segments = mine.flatMap((r) => r.anchors ?? []);
      const keys = segments.filter((s) => s.key);
      const share = (100 * segments.filter((s) => s.found).length) / Math.max(1, segments.length);
      return { ...base, measure: 'segments found as one line; key lines', value: `${share.toFixed(1)}% of ${segments.length}; ${keys.filter((s) => s.found).length} of ${keys.length}` };
    }
    const f1 = mine.reduce((sum, r) => sum + (r.words?.f1 ?? 0), 0) / mine.length;
    const pooled = mine.reduce((p, r) => ({ matched: p.matched + (r.words?.matched ?? 0), total: p.total + (r.words?.read ?? 0) + (r.words?.truth ?? 0) }), { matched: 0, total: 0 });
    return { ...base, measure: 'word F1 (mean; pooled)', value: `${f1.toFixed(3)}; ${((2 * pooled.matched) / Math.max(1, pooled.total)).toFixed(3)}` };
  });
}

function table(found: Row[]): string {
  const header = ['folder', 'images', 'refused by gate', 'measure', 'value'];
  const body = found.map((r) => [r.folder, String(r.images), String(r.refused), r.measure, r.value]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (positionals.length === 0) throw new Error('Name at least one folder of real captures (e.g. ../shared/realdata).');
  const raw: Record<string, unknown> = { runtime: { workers: 0, intraOpThreads: 2 } };
  for (const assignment of args.set) setting(raw, assignment);
  const config = configSchema.parse(raw);
  let samples = (await Promise.all(positionals.map(samplesOf))).flat();
  if (args.limit !== undefined) {
    const limit = Number(args.limit);
    const folders = [...new Set(samples.map((s) => s.folder))];
    samples = folders.flatMap((f) => samples.filter((s) => s.folder === f).slice(0, limit));
  }
  if (samples.length === 0) throw new Error(`No ground truth found under ${positionals.join(', ')}.`);
  const gateOnly = new StageRunner(pathSettings(config, config.pipeline), null);
  const pipeline = args['gate-only'] ? null : await loadDocumentPipeline(config.pipeline, config.runtime);
  const progress = createProgress(samples.length);
  const results: Scored[] = new Array(samples.length);
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const index = next++;
      results[index] = await score(samples[index], config, pipeline, gateOnly);
      const r = results[index];
      if (r.refused) progress.note(`${basename(r.image)}: refused (${r.quality.failed.join(', ')})`);
      progress.tick(basename(r.image));
      if (!process.stderr.isTTY) process.stderr.write(`${index + 1}/${samples.length} ${basename(r.image)} ${r.ms} ms\n`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Number(args.concurrency)) }, worker));
  } finally {
    progress.stop();
    await pipeline?.close();
  }
  const found = rows(results, samples);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${table(found)}\n\n${samples.length} images in ${seconds.toFixed(0)} s; pipeline ${pipeline?.version ?? '(gate only)'}; settings ${JSON.stringify(config.pipeline.detection)}\n`);
  if (args.json !== undefined) {
    await writeFile(args.json, JSON.stringify({ settings: { pipeline: config.pipeline, quality: config.quality }, version: pipeline?.version, seconds, rows: found, images: results }, null, 1));
  }
}

await main();
