import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createVisionops } from '../../app/visionops.js';
import type { Config } from '../../config/schema.js';
import { VisionopsError } from '../../core/errors.js';
import { compareVersions } from '../../registry/judging.js';
import { modelsDirOf } from '../../registry/local-models.js';
import { changeStage, importVersion, listVersions, registerBuiltins, rollback, type VersionView } from '../../registry/registry.js';
import type { LifecycleStage } from '../../registry/types.js';
import type { ModelStore } from '../../store/store.js';
import { EXIT } from '../exit-codes.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface ModelsOptions extends ConfigOptions {
  data?: string;
  json?: boolean;
}

/** Opens the registry (the built-in models registered on first use), runs `work`, closes it. */
async function withRegistry<T>(options: ModelsOptions, work: (store: ModelStore, config: Config) => Promise<T>): Promise<T> {
  const config = commandConfig(options, { 'data.dir': asString(options.data) });
  const { stores, close } = await createVisionops(config, { scope: 'store' });
  try {
    await registerBuiltins(stores.models);
    return await work(stores.models, config);
  } finally {
    await close();
  }
}

function print(options: ModelsOptions, value: unknown, text: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value)}\n` : text());
  process.exitCode = EXIT.ok;
}

function table(versions: VersionView[]): string {
  const rows = versions.map((v) => [
    v.model,
    v.version,
    v.stage === 'canary' ? `canary ${v.weight}` : v.stage,
    v.origin,
    v.parent ?? '-',
    v.sha256.slice(0, 12),
    v.dataset?.slice(0, 12) ?? '-',
  ]);
  const header = ['model', 'version', 'stage', 'origin', 'parent', 'sha256', 'dataset'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

const registryOptions = (command: Command) => withConfigOptions(command).option('-d, --data <dir>', 'data directory (sets data.dir)').option('--json', 'print JSON');

/** `visionops models list|show|add|stage|rollback|compare`: the model registry and its stages. */
export function registerModels(program: Command): void {
  const models = program.command('models').description('model versions: the registry, their stages (production, canary, shadow), rollback and comparison');

  registryOptions(models.command('list'))
    .description('every registered version with its stage')
    .action((options: ModelsOptions) => withRegistry(options, async (store) => {
      const versions = await listVersions(store);
      print(options, { versions }, () => table(versions));
    }));

  registryOptions(models.command('show'))
    .description("one model's versions, or one version in full (manifest, signature, notes) with its stage history")
    .argument('<model>')
    .argument('[version]')
    .action((model: string, version: string | undefined, options: ModelsOptions) => withRegistry(options, async (store) => {
      if (version === undefined) {
        const versions = await listVersions(store, model);
        const history = await store.stageHistory(model, 20);
        print(options, { model, versions, history }, () => `${table(versions)}\nstage changes, newest first:\n${history.map((e) => `  ${e.since}  ${e.version} -> ${e.stage}${e.weight === null ? '' : ` ${e.weight}`}  by ${e.by}: ${e.reason}`).join('\n')}\n`);
        return;
      }
      const found = await store.version(model, version);
      if (found === null) throw new VisionopsError('MODEL_VERSION_NOT_FOUND', `There is no version ${model}@${version}: see visionops models list.`, { model, version });
      print(options, found, () => `${JSON.stringify(found, null, 2)}\n`);
    }));

  registryOptions(models.command('add'))
    .description("register an ONNX file as a new version of a model; refused when its inputs and outputs do not fit the model's")
    .argument('<file>', 'the ONNX file')
    .requiredOption('--model <name>', 'the model (slot) it is a version of, as visionops models list names it')
    .option('--version-name <name>', 'its version name (default: import- and the start of its SHA-256)')
    .option('--parent <version>', 'the version it was made from (default: the one in production)')
    .option('--dataset <id>', "the dataset export's manifest id it was trained or calibrated on")
    .option('--manifest <file>', 'JSON with preprocess, postprocess, labels or metrics when they differ from the parent')
    .action((file: string, options: ModelsOptions & { model: string; versionName?: string; parent?: string; dataset?: string; manifest?: string }) =>
      withRegistry(options, async (store, config) => {
        const manifest = options.manifest === undefined ? undefined : (JSON.parse(await readFile(options.manifest, 'utf8')) as Record<string, never>);
        const added = await importVersion(store, modelsDirOf(config.data.dir), file, { model: options.model, version: options.versionName, parent: options.parent, dataset: options.dataset, manifest });
        print(options, added, () => `registered ${added.model}@${added.version} (parent ${added.parent}, sha256 ${added.sha256})\n`);
      }),
    );

  registryOptions(models.command('stage'))
    .description('put a version in production, canary (with --weight), shadow, or off; running servers follow within lifecycle.refreshSeconds')
    .argument('<model>')
    .argument('<version>')
    .argument('<stage>', 'production | canary | shadow | off')
    .option('--weight <share>', "a canary's share of traffic, above 0 and at most 1", '0.1')
    .action((model: string, version: string, stage: string, options: ModelsOptions & { weight: string }) =>
      withRegistry(options, async (store) => {
        const assignment = await changeStage(store, { model, version, stage: stage as LifecycleStage, weight: Number(options.weight), by: 'cli' });
        print(options, assignment, () => `${model}@${version} is now ${assignment.stage}${assignment.weight === null ? '' : ` (weight ${assignment.weight})`}\n`);
      }),
    );

  registryOptions(models.command('rollback'))
    .description('production goes back to the previous production version; the canary is switched off')
    .argument('<model>')
    .action((model: string, options: ModelsOptions) => withRegistry(options, async (store) => {
      const result = await rollback(store, model, 'cli');
      print(options, result, () => `${model}: production is ${result.production} again (was ${result.previous})${result.canaryOff === null ? '' : `; canary ${result.canaryOff} off`}\n`);
    }));

  registryOptions(models.command('compare'))
    .description('a canary or shadow beside production since it entered its stage, with 95% intervals')
    .argument('<model>')
    .requiredOption('--candidate <version>')
    .action((model: string, options: ModelsOptions & { candidate: string }) => withRegistry(options, async (store) => {
      const comparison = await compareVersions(store, model, options.candidate);
      print(options, comparison, () => describeComparison(comparison));
    }));
}

function describeComparison({ candidate, production }: Awaited<ReturnType<typeof compareVersions>>): string {
  const pct = (r: { rate: number | null; interval: { low: number; high: number } | null }) =>
    r.rate === null ? '-' : `${(100 * r.rate).toFixed(1)}% [${(100 * (r.interval?.low ?? 0)).toFixed(1)}, ${(100 * (r.interval?.high ?? 0)).toFixed(1)}]`;
  const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(0)} ms`);
  const rows: [string, string, string][] = [
    ['version', `${production.version} (production)`, `${candidate.version} (${candidate.stage})`],
    ['runs', String(production.runs), String(candidate.runs)],
    ['review rate', pct(production.reviewRate), pct(candidate.reviewRate)],
    ['reject rate', pct(production.rejectRate), pct(candidate.rejectRate)],
    ['error rate', pct(production.errorRate), pct(candidate.errorRate)],
    ['override rate', pct(production.overrideRate), pct(candidate.overrideRate)],
    ['audited accuracy', pct(production.auditedAccuracy), pct(candidate.auditedAccuracy)],
    ['latency p50', ms(production.latencyMs.p50), ms(candidate.latencyMs.p50)],
    ['latency p95', ms(production.latencyMs.p95), ms(candidate.latencyMs.p95)],
    [
      'agreement',
      '-',
      candidate.agreement === null ? '-' : `${(100 * candidate.agreement.mean).toFixed(1)}% [${(100 * candidate.agreement.interval.low).toFixed(1)}, ${(100 * candidate.agreement.interval.high).toFixed(1)}] over ${candidate.agreement.runs}`,
    ],
  ];
  const width = Math.max(...rows.map((r) => r[1].length));
  return `since ${candidate.since}\n${rows.map(([name, a, b]) => `${name.padEnd(17)}${a.padEnd(width + 2)}${b}`).join('\n')}\n`;
}
