import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createVisionops } from '../../app/visionops.js';
import { registerPipeline, withRegisteredPipelines } from '../../pipeline/own/registered.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface PipelinesOptions extends ConfigOptions {
  data?: string;
  json?: boolean;
}

/** `visionops pipelines add | list`: a user's own models as pipelines (docs/own-models.md). */
export function registerPipelines(program: Command): void {
  const pipelines = program.command('pipelines').description("register a classification or detection model's manifest as a pipeline, and list the pipelines");
  withConfigOptions(pipelines.command('add'))
    .description('validate a model manifest, register its model as a version in the model registry (production when it has none) and keep the pipeline under data.dir: the server loads it at its next start')
    .argument('<manifest>', 'the manifest JSON (docs/own-models.md); its model and labelsFile are relative to its folder')
    .option('-d, --data <dir>', 'data directory (sets data.dir)')
    .action(async (manifest: string, options: PipelinesOptions) => {
      const config = commandConfig(options, { 'data.dir': asString(options.data) });
      const { stores, close } = await createVisionops(config, { scope: 'store' });
      const added = await registerPipeline(resolve(config.data.dir), manifest, stores.models).finally(close);
      const shadowed = config.pipelines.some((entry) => entry.name === added.name);
      const version = added.model.slice(added.model.lastIndexOf('@') + 1);
      process.stdout.write(
        `${added.replaced ? 'replaced' : 'added'} ${added.task} pipeline ${added.name} (model ${added.model}) in ${added.manifest}\n` +
          `model ${added.model} ${added.modelAdded ? 'registered' : 'was registered already'}; ` +
          (added.production === version
            ? 'it is in production\n'
            : `production stays ${added.name}@${added.production}: try it with visionops models stage ${added.name} ${version} canary (or shadow, production)\n`) +
          (shadowed
            ? `note: the configuration declares a pipeline named ${added.name} too, and it is the one served; rename one of them\n`
            : `restart visionops serve to load it; then POST /v1/predict?pipeline=${added.name}\n`),
      );
    });
  withConfigOptions(pipelines.command('list'))
    .description('the configured and registered pipelines, the first being the default')
    .option('-d, --data <dir>', 'data directory (sets data.dir)')
    .option('--json', 'as JSON')
    .action(async (options: PipelinesOptions) => {
      const config = await withRegisteredPipelines(commandConfig(options, { 'data.dir': asString(options.data) }));
      const rows = config.pipelines.map((entry) => ({ name: entry.name, task: entry.task, manifest: entry.manifest ?? null }));
      if (options.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else for (const row of rows) process.stdout.write(`${row.name}\t${row.task}\t${row.manifest ?? 'built-in'}\n`);
    });
}
